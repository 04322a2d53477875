"""Real-time status (DLE EOT n): one byte back per query, decoded here.

Pure: the driver sends ``10 04 n`` and hands the answers in. Every status
byte has bits 0 and 7 clear and bits 1 and 4 set (idle ``0x12``); anything
else is garbage on the line and is refused with a clear error rather than
guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import PrinterError
from kiosk.ports import PrinterStatus

QUERY = {n: bytes((0x10, 0x04, n)) for n in (1, 2, 3, 4)}

_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


class StatusGarbled(PrinterError):
    """The printer answered a status query with a byte that is not a status."""


def check(n: int, reply: bytes) -> int:
    """The status byte of a reply to DLE EOT ``n``.

    :raises StatusGarbled: no byte, or a byte whose fixed bits are wrong.
    """
    if len(reply) != 1:
        raise StatusGarbled(
            f"DLE EOT {n}: expected 1 status byte, got {len(reply)}: {reply[:8].hex(' ')}"
        )
    b = reply[0]
    if b & _FIXED_MASK != _FIXED_BITS:
        raise StatusGarbled(
            f"DLE EOT {n}: 0x{b:02X} is not a status byte (fixed bits must read 0x12)"
        )
    return b


@dataclass(frozen=True)
class StatusReport:
    """What the printer said, flag by flag, and the one status the kiosk acts on."""

    offline: bool = False
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False
    raw: tuple[int, ...] = ()

    @property
    def status(self) -> PrinterStatus:
        # Most actionable first: an open cover or an empty roll also make the
        # printer report "offline", which is their consequence, not a cause.
        if self.cover_open:
            return PrinterStatus.COVER_OPEN
        if self.paper_out:
            return PrinterStatus.PAPER_OUT
        if self.error:
            return PrinterStatus.ERROR
        if self.offline:
            return PrinterStatus.OFFLINE
        if self.paper_near_end:
            return PrinterStatus.PAPER_NEAR_END
        return PrinterStatus.OK

    @property
    def reason(self) -> str:
        """A sentence for the technician (no personal data here by construction)."""
        codes = " ".join(f"{b:02X}" for b in self.raw)
        why = {
            PrinterStatus.COVER_OPEN: "cover open: close the printer cover",
            PrinterStatus.PAPER_OUT: "paper out: load a new paper roll",
            PrinterStatus.ERROR: "printer error (cutter or mechanism): check the printer and power-cycle it",
            PrinterStatus.OFFLINE: "printer reports offline: check the printer panel",
            PrinterStatus.PAPER_NEAR_END: "paper near end: replace the roll soon",
            PrinterStatus.OK: "ok",
        }[self.status]
        return f"{why} (DLE EOT 1/2/4 = {codes})" if codes else why


def decode(s1: int, s2: int, s4: int) -> StatusReport:
    """Combine the answers to DLE EOT 1 (printer), 2 (offline cause), 4 (paper).

    ``s*`` are bytes already accepted by :func:`check`.
    """
    return StatusReport(
        offline=bool(s1 & 0x08),
        cover_open=bool(s2 & 0x04),
        paper_out=bool(s4 & 0x60) or bool(s2 & 0x20),
        paper_near_end=bool(s4 & 0x0C),
        error=bool(s2 & 0x40),
        raw=(s1, s2, s4),
    )


def parse(replies: dict[int, bytes]) -> StatusReport:
    """Check and decode the replies to DLE EOT 1, 2 and 4 (keyed by ``n``).

    :raises StatusGarbled: a reply is missing or is not a status byte.
    """
    return decode(*(check(n, replies.get(n, b"")) for n in (1, 2, 4)))
