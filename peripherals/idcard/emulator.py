"""A byte-exact GA 467 SAM reader on the far end of a pseudo-terminal.

The driver opens :meth:`IdCardReaderEmulator.start`'s path with pyserial, as
it would ``/dev/kiosk-idcard``: the path is a symlink to the pty's slave end,
the way a udev rule names a real reader, so an unplugged-and-replugged
reader (a new pty) appears again under the same name. Replies are paced at
the configured baud rate (10 bits a byte, 8N1), counted from when the
request would have finished arriving, so timings match a real serial line.

Run standalone: ``python -m peripherals.idcard.emulator`` prints the path and
serves until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

from kiosk.identity import IdCard
from peripherals.idcard import protocol as p
from peripherals.idcard.cards import fake_wlt, sample_cards
from peripherals.idcard.text import encode_text

log = logging.getLogger(__name__)

FAULTS = ("no_card", "corrupt_frame", "bad_checksum", "timeout", "partial_frame", "unplugged")
DEFAULT_SAM_ID = bytes.fromhex("0500 0100 dd7a3301 0b4e0500 e1a3ef00".replace(" ", ""))
SELECT_SERIAL = bytes(8)  # readers answer select with 8 zero bytes
_CHUNK = 32  # bytes written per pacing step (~2.8 ms at 115200 baud)


class IdCardReaderEmulator:
    """A SAM reader holding ``cards``; none is on the reader until :meth:`insert`."""

    def __init__(
        self,
        cards: list[IdCard] | None = None,
        baudrate: int = 115200,
        *,
        sam_id: bytes = DEFAULT_SAM_ID,
        link: str | os.PathLike[str] | None = None,
    ) -> None:
        self.cards = list(cards) if cards is not None else sample_cards()
        self.baudrate = baudrate
        self.sam_id = sam_id
        self._link_arg = Path(link) if link else None
        self._tmpdir: str | None = None
        self.path = ""  # the stable name the driver opens
        self.slave_path = ""  # the current pty's /dev/pts/N
        self._lock = threading.Lock()
        self._card: IdCard | None = None
        self._found = False
        self._selected = False
        self._fault: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._want_plugged = True
        self._settled = threading.Event()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self.requests = 0  # whole frames received, for tests and diagnostics

    # -- control -----------------------------------------------------------
    def start(self) -> str:
        """Open the pty, start answering, and return the path for the driver."""
        if self._link_arg is None:
            self._tmpdir = tempfile.mkdtemp(prefix="idcard-")
            link = Path(self._tmpdir) / "kiosk-idcard"
        else:
            link = self._link_arg
        self.path = str(link)
        self._wake_r, self._wake_w = os.pipe()
        self._plug()
        self._thread = threading.Thread(target=self._serve, name="idcard-emulator", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        """Stop answering, close the pty and remove the path. Safe to call twice."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self._unplug()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def insert(self, card: IdCard | int = 0) -> IdCard:
        """Lay a card (or ``self.cards[index]``) on the reader; returns it."""
        chosen = self.cards[card] if isinstance(card, int) else card
        with self._lock:
            self._card = chosen
            self._found = self._selected = False
        return chosen

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self._card = None
            self._found = self._selected = False

    def set_fault(self, mode: str | None) -> None:
        """Misbehave from now on: one of FAULTS, or None to behave again.

        ``unplugged`` closes the pty and removes the path (as a pulled USB
        cable does); ``None`` afterwards plugs a fresh pty in under the same path.
        """
        if mode is not None and mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            was, self._fault = self._fault, mode
        if mode == "unplugged":
            self._request_plugged(False)
        elif was == "unplugged":
            self._request_plugged(True)

    def unplug(self) -> None:
        self.set_fault("unplugged")

    def replug(self) -> None:
        """Plug the reader back in (a new pty under the same path); clears any fault."""
        self.set_fault(None)

    @property
    def fault(self) -> str | None:
        return self._fault

    # -- the pty -------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw both ways: no byte (0x0D, 0x0A, 0x11, 0x13...) may be rewritten or eaten.
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave  # we keep the slave open: no EIO on master
        self.slave_path = os.ttyname(slave)
        tmp = Path(self.path + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.slave_path)
        tmp.replace(self.path)  # atomic: the driver never sees a half-made name

    def _unplug(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            Path(self.path).unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _request_plugged(self, plugged: bool) -> None:
        """Ask the serving thread (which owns the fds) to plug or unplug; wait for it."""
        self._settled.clear()
        self._want_plugged = plugged
        self._wake()
        if self._thread is not None and not self._settled.wait(5.0):
            raise RuntimeError("ID card emulator did not change its plug state within 5 s")

    def _wake(self) -> None:
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    # -- serving -------------------------------------------------------------
    def _serve(self) -> None:
        parser = p.RequestParser()
        started = 0.0  # when the first byte of the request in progress arrived
        while not self._stopping.is_set():
            if self._want_plugged != (self._master is not None):
                if self._master is not None:
                    self._unplug()
                else:
                    self._plug()
                parser.clear()
            self._settled.set()
            fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            ready, _, _ = select.select(fds, [], [], 1.0)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                continue
            if not ready or self._master is None:
                continue
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as err:
                log.warning("ID card emulator: pty read failed: %s", err)
                continue
            if not parser.pending:
                started = time.monotonic()
            self._handle(parser, data, started)

    def _handle(self, parser: p.RequestParser, data: bytes, started: float) -> None:
        while True:
            try:
                requests = parser.feed(data)
            except p.FrameError as err:
                # A reader answers a frame it cannot use with 0x10 / 0x11.
                self._send(p.build_response(0x10 if err.kind == "checksum" else 0x11), started)
                data = b""
                continue
            break
        for request in requests:
            self.requests += 1
            size = p.HEADER_LEN + 3 + len(request.data)
            reply = self._answer(request)
            rate = self.baudrate
            if request.cmd == p.SET_BAUDRATE and reply[9] == p.SW_OK:
                # The reply goes at the old rate, but the switch is made before it is sent:
                # a host that has read the reply may already speak at the new one.
                self.baudrate = p.BAUDRATES[request.para]
            self._send(reply, started + size * 10 / rate, rate)

    def _answer(self, req: p.Request) -> bytes:
        """The reply a reader gives to ``req`` in the current state (before faults)."""
        ok = p.build_response
        key = (req.cmd, req.para)
        with self._lock:
            card = None if self._fault == "no_card" else self._card
            if key == p.RESET_SAM:
                self._found = self._selected = False
                return ok(p.SW_OK)
            if key == p.SAM_STATUS:
                return ok(p.SW_OK)
            if key == p.READ_SAM_ID:
                return ok(p.SW_OK, self.sam_id)
            if key == p.FIND_CARD:
                self._found = card is not None
                self._selected = False
                return ok(p.SW_FOUND, bytes(4)) if card else ok(p.SW_NO_CARD)
            if key == p.SELECT_CARD:
                self._selected = self._found and card is not None
                return ok(p.SW_OK, SELECT_SERIAL) if self._selected else ok(0x81)
            if key in (p.READ_TEXT_PHOTO, p.READ_TEXT_PHOTO_FINGERPRINT, p.READ_NEWEST_ADDRESS):
                if not (self._selected and card is not None):
                    return ok(0x41)
                if key == p.READ_NEWEST_ADDRESS:
                    return ok(0x91)  # no address added since the card was issued
                blocks = [encode_text(card), card.photo or fake_wlt(card.id_number)]
                if key == p.READ_TEXT_PHOTO_FINGERPRINT:
                    blocks.append(fake_wlt("fp:" + card.id_number))
                lengths = b"".join(len(b).to_bytes(2, "big") for b in blocks)
                return ok(p.SW_OK, lengths + b"".join(blocks))
            if req.cmd == p.SET_BAUDRATE and req.para < len(p.BAUDRATES) and not req.data:
                return ok(p.SW_OK)
            if key == p.SET_MAX_RF_FRAME and len(req.data) == 1:
                return ok(p.SW_OK)
        return ok(0x21)

    def _send(self, reply: bytes, not_before: float, baudrate: int | None = None) -> None:
        """Write ``reply`` as a UART at ``baudrate`` (the current rate if None) would:
        byte k lands (k+1) byte-times after start."""
        fault = self._fault
        if fault == "timeout":
            return
        frame = bytearray(reply)
        if fault == "corrupt_frame":
            frame[5] ^= 0xFF  # the length field: the frame no longer makes sense
            frame[len(frame) // 2] ^= 0x55
        elif fault == "bad_checksum":
            frame[-1] ^= 0x01
        elif fault == "partial_frame":
            del frame[max(p.HEADER_LEN + 1, len(frame) // 2) :]
        byte_time = 10 / (baudrate or self.baudrate)
        t0 = max(time.monotonic(), not_before)
        for at in range(0, len(frame), _CHUNK):
            chunk = bytes(frame[at : at + _CHUNK])
            delay = t0 + (at + len(chunk)) * byte_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self._stopping.is_set() or self._master is None:
                return
            try:
                os.write(self._master, chunk)
            except BlockingIOError:
                log.warning("ID card emulator: host is not reading; reply dropped")
                return
            except OSError as err:
                log.warning("ID card emulator: pty write failed: %s", err)
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="GA 467 SAM ID card reader emulator on a pty")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--card", type=int, default=0, help="index of the sample card to insert")
    parser.add_argument("--empty", action="store_true", help="start with no card on the reader")
    parser.add_argument("--link", help="path of the symlink to create (default: a temp dir)")
    args = parser.parse_args(argv)
    emulator = IdCardReaderEmulator(baudrate=args.baudrate, link=args.link)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: Ctrl-C, or a supervisor
        signal.signal(signum, lambda *_: done.set())
    path = emulator.start()
    try:
        if not args.empty:
            emulator.insert(args.card)
        print(path, flush=True)
        done.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
