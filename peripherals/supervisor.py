"""The supervisor: starts and stops every emulator and daemon the kiosk talks to.

One module, used by ``kiosk demo`` and by the pytest fixtures. Each part
starts on loopback or on a pty with a port chosen at run time, and a part
that cannot start raises :class:`SupervisorError` with one line saying what
failed and how to fix it. Every process and thread it started is stopped by
:meth:`Supervisor.stop`, also on Ctrl-C and on failure (use it as a context
manager).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

START_TIMEOUT = 20.0
FIX = "run scripts/setup.sh"


class SupervisorError(RuntimeError):
    """A part could not start; the message is one line: what, and how to fix it."""


def read_line(stream, timeout: float, what: str) -> str:
    """One line from a child's pipe, or SupervisorError after ``timeout`` s."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise SupervisorError(f"{what} did not report within {timeout:.0f} s")
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                raise SupervisorError(f"{what} exited before it was ready")
            buf += chunk
    finally:
        sel.close()
    return buf.decode("utf-8", "replace").strip()


def stop_process(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def _drain(stream, path: Path) -> threading.Thread:
    """Copy a child's output to a log file so its pipe never fills."""

    def run():
        with path.open("ab") as out, contextlib.suppress(ValueError, OSError):
            for line in iter(stream.readline, b""):
                out.write(line)
                out.flush()

    t = threading.Thread(target=run, name=f"drain-{path.name}", daemon=True)
    t.start()
    return t


class Xvfb:
    """A virtual X screen, started only when there is no DISPLAY."""

    name = "display"

    def __init__(self, width: int = 1920, height: int = 1920):
        self.size = (width, height)
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def start(self, workdir: Path) -> None:
        if not shutil.which("Xvfb"):
            raise SupervisorError(f"Xvfb is not installed: {FIX} (apt-get install xvfb)")
        r, w = os.pipe()
        cmd = ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{self.size[0]}x{self.size[1]}x24",
               "-nolisten", "tcp", "-noreset", "+extension", "GLX"]
        with (workdir / "xvfb.log").open("wb") as logf:
            self.proc = subprocess.Popen(cmd, pass_fds=(w,), stdout=logf, stderr=logf,
                                         start_new_session=True)
        os.close(w)
        with os.fdopen(r, "rb") as pipe:
            try:
                number = read_line(pipe, START_TIMEOUT, "Xvfb")
            except SupervisorError as err:
                tail = (workdir / "xvfb.log").read_text(errors="replace")[-300:]
                raise SupervisorError(f"{err}; Xvfb said: {tail.strip() or 'nothing'}") from None
        self.display = f":{number}"

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        stop_process(self.proc)


class Central:
    """The reference central platform as its own process, on a free loopback port."""

    name = "central"

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.data_dir: Path | None = None

    def start(self, workdir: Path, port: int = 0) -> None:
        self.workdir = workdir
        data = self.data_dir = workdir / "central"
        data.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "central.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data)]
        log_path = workdir / "central.log"
        # the walkthrough takes a queue ticket whatever the hour: the county's halls hand
        # them out in office hours only (a demo at night would show the windows shut)
        env = {**os.environ, "CENTRAL_TICKETS_ANY_TIME": "1"}
        with log_path.open("ab") as logf:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=logf,
                                         start_new_session=True, env=env)
        try:
            line = read_line(self.proc.stdout, START_TIMEOUT, "the central server")
        except SupervisorError as err:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["nothing"]
            raise SupervisorError(f"{err}; it said: {tail[0]}") from None
        if not line.startswith("listening on "):
            raise SupervisorError(f"the central server did not start: {line}")
        self.url = line.removeprefix("listening on ").strip()
        _drain(self.proc.stdout, log_path)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        stop_process(self.proc)

    def come_back(self) -> None:
        """Back after an outage (``stop``), on the same port and data, as terminals know it."""
        self.start(self.workdir, int(self.url.rsplit(":", 1)[1]))


@dataclass
class Supervisor:
    """Starts the parts named in ``parts`` in order and stops them in reverse."""

    workdir: Path
    parts: Iterable[str] = ("display", "central", "pcsc", "idcard", "printer", "camera", "scanner")
    started: list = field(default_factory=list)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.parts = tuple(self.parts)
        self.by_name: dict[str, object] = {}

    def start(self) -> Supervisor:
        try:
            for name in self.parts:
                part = self._make(name)
                if part is None:
                    continue
                part.start(self.workdir)
                self.started.append(part)
                self.by_name[name] = part
                log.info("started %s", name)
        except BaseException:
            self.stop()
            raise
        return self

    def _make(self, name: str):
        if name == "display":
            return Xvfb() if not os.environ.get("DISPLAY") else None
        if name == "central":
            return Central()
        from peripherals import rig_parts  # the device emulators

        return rig_parts.make(name)

    def __getitem__(self, name: str):
        return self.by_name[name]

    def pids(self) -> list[tuple[str, int]]:
        """(part, process id) of every daemon started as its own process."""
        return [(part.name, part.pid) for part in self.started if getattr(part, "pid", None)]

    def env(self) -> dict[str, str]:
        """Environment a kiosk process needs to reach the parts (DISPLAY, pcscd socket)."""
        out: dict[str, str] = {}
        for part in self.started:
            if hasattr(part, "env"):
                out.update(part.env())
        return out

    def stop(self) -> None:
        while self.started:
            part = self.started.pop()
            try:
                part.stop()
            except Exception as err:  # noqa: BLE001 - stopping must go on for the rest
                log.warning("stopping %s failed: %s", part.name, err)

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
