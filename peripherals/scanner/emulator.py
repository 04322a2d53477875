"""A serial code scanner on a pseudo-terminal: the driver talks to it as to the real one.

The emulator owns the master side of a pty pair in raw mode and offers a
stable path (a symlink, like the udev rule ``/dev/scanner`` on a terminal)
that points at the slave side. :meth:`unplug` closes the pair and removes the
link, as pulling the USB cable does; :meth:`replug` makes a new pair behind
the same path. Bytes are paced at the configured baud rate (8N1: 10 bits a
byte), so timing-dependent framing is exercised as on the wire.

Standalone: ``python -m peripherals.scanner.emulator`` prints the path, then
scans each line read from standard input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path


def read_paper(picture: Path | str) -> str:
    """What a scanner reads off the QR code in ``picture`` (a printed slip's image), or ''
    when none scans.

    OpenCV's detector misses some small codes at 1:1 (a receipt's 3-dot modules) that a
    scanner or a phone reads: larger copies are tried too, each pixel repeated, with a
    quiet zone around. It also misses about one well-printed receipt code in 750 at every
    size (measured on 3 000 receipts' URLs), which its second detector (ArUco-based finder
    patterns) reads: that one is tried last.
    """
    import cv2  # only where paper is read: the emulator itself needs no OpenCV

    img = cv2.imread(str(picture))
    if img is None:
        raise ValueError(f"{picture} is not a readable image")
    candidates = []
    for scale in (1, 2, 3, 4):
        big = img if scale == 1 else cv2.resize(img, None, fx=scale, fy=scale,
                                                 interpolation=cv2.INTER_NEAREST)  # fmt: skip
        bordered = cv2.copyMakeBorder(big, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        candidates += [big, bordered] if scale == 1 else [bordered]
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        for candidate in candidates:
            text, _points, _ = detector.detectAndDecode(candidate)
            if text:
                return text
    return ""


class ScannerEmulator:
    """One emulated scanner; thread-safe, start() before use, stop() to clean up."""

    def __init__(self, baudrate: int = 9600) -> None:
        self.baudrate = baudrate
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._dir: Path | None = None

    @property
    def path(self) -> str:
        """The stable device path for pyserial (valid after start())."""
        if self._dir is None:
            raise RuntimeError("ScannerEmulator not started")
        return str(self._dir / "scanner")

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> str:
        """Create the pty pair and the stable path; return the path."""
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="scanner-emu-"))
            self._plug()
        return self.path

    def scan(self, text: str, terminator: str = "\r\n", encoding: str = "utf-8") -> None:
        """Send one code as the scanner would: payload then terminator, paced.

        :raises RuntimeError: the emulator is unplugged or stopped.
        """
        self.send((text + terminator).encode(encoding))

    def send(self, data: bytes) -> None:
        """Send raw bytes at the baud rate (for garbage, split frames, etc.)."""
        per_byte = 10.0 / self.baudrate
        start = time.monotonic()
        chunk = 16  # a few bytes a write keeps pacing close without a syscall per byte
        for i in range(0, len(data), chunk):
            with self._lock:
                if self._master is None:
                    raise RuntimeError("scanner emulator is unplugged")
                os.write(self._master, data[i : i + chunk])
            # Absolute schedule, so one late wake-up does not slow the rest.
            due = start + (i + chunk) * per_byte
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def unplug(self) -> None:
        """Close the pty pair and remove the path, as pulling the cable does."""
        with self._lock:
            self._unplug()

    def replug(self) -> str:
        """A new pty pair behind the same path; returns the path."""
        with self._lock:
            self._unplug()
            self._plug()
        return self.path

    def stop(self) -> None:
        """Unplug and remove the temporary directory; safe to call twice."""
        with self._lock:
            self._unplug()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def _plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        # Raw on both sides: no echo, no CR/LF translation, bytes as sent.
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        link = Path(self.path)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(os.ttyname(slave))

    def _unplug(self) -> None:
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (self._dir / "scanner").unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def __enter__(self) -> ScannerEmulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    # A supervisor stops us with SIGTERM: exit through the context manager's cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    baud = int(sys.argv[1]) if len(sys.argv) > 1 else 9600
    with ScannerEmulator(baud) as emu:
        print(emu.path, flush=True)
        for line in sys.stdin:
            emu.scan(line.rstrip("\r\n"))


if __name__ == "__main__":
    main()
