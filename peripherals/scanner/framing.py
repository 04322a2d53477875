"""Turning a scanner's byte stream into codes: pure, fed bytes, no I/O.

A serial scanner sends the decoded data followed by CR or CR LF (some send LF),
with no prefix or checksum (devices.md section 5). Some are configured with no
terminator at all, so a frame also ends when the line has been idle for
``idle_timeout`` seconds. Chinese payloads come as UTF-8 from newer scanners
and GBK from older ones, so decoding tries UTF-8 first and falls back to GBK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

TERMINATORS = b"\r\n"
MAX_FRAME = 4096
IDLE_TIMEOUT = 0.25


@dataclass(frozen=True)
class Dropped:
    """Why a frame was thrown away; for health and logs (never the payload itself)."""

    reason: str  # "too_long" | "undecodable"
    length: int


class ScanFramer:
    """Split bytes into codes on CR, LF or CRLF, or after an idle gap.

    ``now`` is a monotonic time in seconds supplied by the caller, so the
    framer stays pure and tests control time. Empty frames (the LF after a CR,
    blank lines) are ignored. A frame longer than ``max_frame`` bytes is
    discarded up to its terminator and counted in :attr:`dropped_total`, with
    the latest in :attr:`last_dropped`.
    """

    def __init__(self, max_frame: int = MAX_FRAME, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        self.dropped_total = 0
        self.last_dropped: Dropped | None = None
        self._buf = bytearray()
        self._overflow = 0  # bytes discarded of the frame in progress; 0 = not discarding
        self._last: float | None = None

    def feed(self, data: bytes, now: float, gap_seen: bool = True) -> list[str]:
        """Add received bytes; return the codes completed by them (maybe none).

        ``gap_seen=False``: the reader has not seen the line quiet since the last
        bytes (they waited in the OS buffer while it was busy), so however late
        ``now`` is, these bytes continue the frame rather than start a new one.
        """
        codes = self.flush(now) if gap_seen else []
        for byte in data:
            if byte in TERMINATORS:
                codes.extend(self._end_frame())
            elif self._overflow:
                self._overflow += 1
            elif len(self._buf) >= self.max_frame:
                self._overflow = len(self._buf) + 1
                self._buf.clear()
            else:
                self._buf.append(byte)
        if data:
            self._last = now
        return codes

    def flush(self, now: float) -> list[str]:
        """End a pending frame if the line has been idle for ``idle_timeout``."""
        if self._last is not None and now - self._last >= self.idle_timeout:
            self._last = None
            return self._end_frame()
        return []

    def pending(self) -> bool:
        """True while part of a frame waits for its terminator or the idle timeout."""
        return bool(self._buf) or bool(self._overflow)

    def _end_frame(self) -> list[str]:
        if self._overflow:
            self._drop(Dropped("too_long", self._overflow))
            self._overflow = 0
            return []
        raw = bytes(self._buf)
        self._buf.clear()
        if not raw:
            return []
        text = decode(raw)
        if text is None:
            self._drop(Dropped("undecodable", len(raw)))
            return []
        return [text]

    def _drop(self, what: Dropped) -> None:
        # Only the reason and the length: a code can carry personal data.
        log.warning("scanner frame dropped: %s (%d bytes)", what.reason, what.length)
        self.dropped_total += 1
        self.last_dropped = what


def decode(raw: bytes) -> str | None:
    """UTF-8, else GBK, else None (garbage: often a wrong baud rate)."""
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
