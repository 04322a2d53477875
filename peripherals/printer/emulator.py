"""A receipt printer on a real TCP socket (port 9100 semantics), for tests and the demo.

It takes the bytes a driver sends, answers DLE EOT status queries from its
state the moment it reads them, "prints" (keeps) what a printer with paper
would print, splits jobs at cuts, and renders any job to a PNG. Paper can run
out part-way through a job: from then on print bytes are dropped, as a real
head with no paper drops them, and status says paper out.

    emu = PrinterEmulator(paper_mm=80); port = emu.start()
    ...  # EscposPrinter(f"tcp://127.0.0.1:{port}")
    emu.render("slip.png"); emu.stop()

Standalone: ``python -m peripherals.printer.emulator --port 9100 --out DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from peripherals.printer.render import render_png
from peripherals.printer.tokens import next_token, tokenize

log = logging.getLogger(__name__)

PAPER_LEVELS = ("ok", "near_end", "out")


@dataclass
class Job:
    """One job: everything received, and what reached the paper."""

    raw: bytearray = field(default_factory=bytearray)
    printed: bytearray = field(default_factory=bytearray)
    cut: bool = False  # ended by GS V (else by the connection closing)
    paper_ran_out: bool = False
    first_byte_at: float = 0.0
    last_byte_at: float = 0.0  # time.perf_counter() of its last byte


class PrinterCore:
    """The printer's behaviour, fed bytes; no sockets (so a pty can host it too)."""

    def __init__(self) -> None:
        self.paper = "ok"
        self.cover_open = False
        self.offline = False
        self.budget: tuple[str, int] | None = None  # ("lines"|"bytes", left)
        self.jobs: list[Job] = []
        self.received = bytearray()
        self.status_queries = 0
        self._buf = b""
        self._job = Job()

    # -- status ---------------------------------------------------------------
    def status_byte(self, n: int) -> int:
        out = self.paper == "out"
        if n == 1:  # offline while the cover is open or the roll is empty, as printers do
            return 0x12 | (0x08 if self.offline or self.cover_open or out else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if out else 0)
        if n == 4:
            return 0x72 if out else 0x1E if self.paper == "near_end" else 0x12
        return 0x12  # n == 3: no mechanical, cutter or unrecoverable error

    def can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open and not self.offline

    # -- bytes ----------------------------------------------------------------
    def feed(self, data: bytes, now: float | None = None) -> bytes:
        """Take received bytes; return the status replies to send back."""
        now = time.perf_counter() if now is None else now
        self.received += data
        buf, pos, replies = self._buf + data, 0, bytearray()
        while pos < len(buf):
            got = next_token(buf, pos)
            if got is None:
                break  # a command split across reads: wait for the rest
            token, pos = got
            if token.name == "DLE EOT":
                self.status_queries += 1
                replies.append(self.status_byte(token.args[0]))
                continue
            self._take(token.name, token.raw, token.args, now)
        self._buf = buf[pos:]
        return bytes(replies)

    def _take(self, name: str, raw: bytes, args: bytes, now: float) -> None:
        job = self._job
        if not job.raw:
            job.first_byte_at = now
        job.raw += raw
        job.last_byte_at = now
        if name == "GS V":
            job.cut = True
            if self.can_print():
                job.printed += raw
            self._end_job()
            return
        if not self.can_print():
            return  # no paper under the head: the bytes are lost, as on a real printer
        job.printed += raw
        if self.budget:
            kind, left = self.budget
            used = (
                len(raw)
                if kind == "bytes"
                else 1
                if name == "LF"
                else args[0]
                if name == "ESC d"
                else 0
            )
            left -= used
            self.budget = (kind, left)
            if left <= 0:
                self.paper, self.budget, job.paper_ran_out = "out", None, True
                log.info("emulator: paper ran out mid-job")

    def _end_job(self) -> None:
        if self._job.raw:
            self.jobs.append(self._job)
        self._job = Job()

    def power_lost(self) -> None:
        """A restart: what was arriving is gone, and no job of it is kept."""
        self._buf = b""
        self._job = Job()

    def connection_closed(self) -> None:
        """A job also ends when the host hangs up; an unfinished command is dropped."""
        self._buf = b""
        self._end_job()


class PrinterEmulator:
    """The core behind a TCP listener; one connection at a time, like a 9100 port."""

    def __init__(
        self,
        paper_mm: int = 80,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_job: Callable[[int, Job], None] | None = None,
    ) -> None:
        self.paper_mm = paper_mm
        self.host, self.port = host, port
        self.on_job = on_job
        self.core = PrinterCore()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._power_cut = False  # the next job's bytes are lost and the link drops

    # -- life -------------------------------------------------------------------
    def start(self) -> int:
        """Listen and serve in a thread; returns the port (the same one after a restart)."""
        if self._thread:
            return self.port
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(4)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._serve, name=f"printer-emu:{self.port}", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop listening and drop the connection (the printer is "unplugged")."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> PrinterEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        assert self._listener
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        # A status byte must leave at once, not wait for Nagle to batch it.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            with self._lock:
                cut = self._power_cut and _job_bytes(data)
                if cut:
                    # the printer restarts as a job arrives: nothing of it printed, the link
                    # gone, and back at once, ready and answering "OK" to the next connection
                    self._power_cut = False
                    self.core.power_lost()
            if cut:
                log.info("emulator: power cut as a job arrived")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            with self._lock:
                before = len(self.core.jobs)
                replies = self.core.feed(data)
                finished = list(enumerate(self.core.jobs))[before:]
                self._lock.notify_all()
            if replies:
                with contextlib.suppress(OSError):
                    conn.sendall(replies)
            self._announce(finished)
        with self._lock:
            before = len(self.core.jobs)
            self.core.connection_closed()
            finished = list(enumerate(self.core.jobs))[before:]
            self._lock.notify_all()
        self._announce(finished)

    def _announce(self, finished: list[tuple[int, Job]]) -> None:
        for i, job in finished:
            if self.on_job:
                self.on_job(i, job)

    # -- controls -------------------------------------------------------------
    def power_cut_on_next_job(self) -> None:
        """The printer restarts as the next job's bytes arrive (a power glitch in the hall):
        they are lost, the connection is reset, and the printer answers again at once."""
        with self._lock:
            self._power_cut = True

    def set_paper(self, level: str) -> None:
        """ "ok", "near_end" or "out"."""
        if level not in PAPER_LEVELS:
            raise ValueError(f"paper level must be one of {PAPER_LEVELS}")
        with self._lock:
            self.core.paper = level
            self.core.budget = None

    def set_cover_open(self, is_open: bool) -> None:
        with self._lock:
            self.core.cover_open = is_open

    def set_offline(self, offline: bool) -> None:
        with self._lock:
            self.core.offline = offline

    def run_out_after(self, *, n_lines: int | None = None, n_bytes: int | None = None) -> None:
        """Paper ends after this many more printed lines (LF) or bytes."""
        if (n_lines is None) == (n_bytes is None):
            raise ValueError("give exactly one of n_lines, n_bytes")
        with self._lock:
            self.core.budget = ("lines", n_lines) if n_lines is not None else ("bytes", n_bytes)

    def refill(self) -> None:
        """A new roll: paper ok, cover closed."""
        with self._lock:
            self.core.paper, self.core.budget, self.core.cover_open = "ok", None, False

    # -- what was printed -----------------------------------------------------------
    def received(self) -> bytes:
        """Every byte received since start, status queries included."""
        with self._lock:
            return bytes(self.core.received)

    def jobs(self) -> list[bytes]:
        """What reached the paper, per finished job (cut or connection closed)."""
        with self._lock:
            return [bytes(j.printed) for j in self.core.jobs]

    def job_records(self) -> list[Job]:
        with self._lock:
            return list(self.core.jobs)

    @property
    def status_queries(self) -> int:
        with self._lock:
            return self.core.status_queries

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` jobs have finished; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.core.jobs) >= count, timeout=timeout)

    def text(self, job_index: int = -1) -> list[str]:
        """The text one finished job put on paper (default the last), a line a line.

        :raises IndexError: no such job.
        """
        return printed_text(self.jobs()[job_index])

    def render(self, path: str | Path, job_index: int = -1) -> Path:
        """Write the PNG of one finished job (default the last).

        :raises IndexError: no such job.
        """
        data = self.jobs()[job_index]
        return render_png(data, path, self.paper_mm)


def printed_text(data: bytes) -> list[str]:
    """What a person reads off the paper: each printed line's text, ASCII as it is and
    the runs between FS & and FS . as GB18030 (a QR code or an image leaves no text)."""
    lines, line, chinese = [], "", False
    for token in tokenize(data):
        if token.name == "FS &":
            chinese = True
        elif token.name == "FS .":
            chinese = False
        elif token.name == "text":
            line += token.raw.decode("gb18030" if chinese else "latin-1", errors="replace")
        elif token.name == "LF":
            lines.append(line)
            line = ""
    return [*lines, line] if line else lines


class PtyPrinterEmulator:
    """The same printer on a serial line: a pseudo-terminal pair. The driver opens
    ``start()``'s path as ``serial://<path>?baudrate=9600``."""

    def __init__(self) -> None:
        self.core = PrinterCore()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: tuple[int, int] | None = None

    def start(self) -> str:
        import os
        import tty

        master, slave = os.openpty()
        tty.setraw(slave)  # bytes pass untouched: no echo, no CR/LF translation
        self._fds = (master, slave)
        self._thread = threading.Thread(target=self._serve, name="printer-emu-pty", daemon=True)
        self._thread.start()
        return os.ttyname(slave)

    def _serve(self) -> None:
        import os
        import select

        assert self._fds
        master = self._fds[0]
        while not self._stop.is_set():
            if not select.select([master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            with self._lock:
                replies = self.core.feed(data)
            if replies:
                os.write(master, replies)

    def jobs(self) -> list[bytes]:
        with self._lock:
            return [bytes(j.printed) for j in self.core.jobs]

    def stop(self) -> None:
        import os

        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
        for fd in self._fds or ():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ESC/POS receipt printer emulator (TCP)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width, mm")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for one PNG per job")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    def write(i: int, job: Job) -> None:
        path = render_png(bytes(job.printed), args.out / f"job-{i + 1:04d}.png", args.paper)
        log.info("job %d: %d bytes -> %s", i + 1, len(job.raw), path)

    emu = PrinterEmulator(args.paper, args.host, args.port, on_job=write)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    port = emu.start()
    log.info("printer emulator listening on %s:%d (%d mm)", args.host, port, args.paper)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


_STATUS_QUERIES = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04")


def _job_bytes(data: bytes) -> bool:
    """``data`` holds more than status queries (DLE EOT n): part of a job."""
    for query in _STATUS_QUERIES:
        data = data.replace(query, b"")
    return bool(data)
