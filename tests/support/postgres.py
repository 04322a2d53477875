"""A private PostgreSQL cluster in a temporary directory, for the tests of central/.

initdb refuses to run as root, so as root the cluster belongs to the
``postgres`` user (runuser); as anyone else it runs as that user. It listens
on 127.0.0.1 on a free port with its socket inside the directory, and
``stop()`` removes everything. Failing to start raises with PostgreSQL's log.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """``crash_safe``: what a commit returned is on disk when the server is stopped at once
    (``halt``), as on a real server. Without it (most tests: faster) a commit returns before
    its WAL is written, and a halt within the WAL writer's 200 ms can lose it: a terminal
    enrolled just before a halt came back unknown."""

    def __init__(self, crash_safe: bool = False) -> None:
        self.dir: Path | None = None
        self.port = 0
        self._count = 0
        self.crash_safe = crash_safe

    def _run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=timeout)

    def start(self) -> None:
        """:raises RuntimeError: initdb or pg_ctl failed (the message carries their output)."""
        if not (BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 is not installed ({BIN}/initdb missing): apt-get install postgresql"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        done = self._run(str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                         "-E", "UTF8", "--no-locale", "--no-sync")  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        self.port = free_port()
        self._launch()

    def halt(self) -> None:
        """Stop the server at once (as a crash or a restart does); its data stays."""
        done = self._run(str(BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                         "-w", "stop")  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not stop: {done.stderr.strip()[-300:]}")

    def resume(self) -> None:
        """Start the halted server again, on the same port with the same data."""
        self._launch()

    def _launch(self) -> None:
        data, log = self.dir / "data", self.dir / "log"
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                f"-c synchronous_commit={'on' if self.crash_safe else 'off'} "
                "-c full_page_writes=off -c max_connections=60")  # fmt: skip
        done = self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            opts,
            "-w",
            "-t",
            "30",
            "start",
        )
        if done.returncode:
            tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()[-300:]} {tail}")

    def create_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        self._count += 1
        name = f"central_{self._count}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.dir is None:
            return
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run(
                str(BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop"
            )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
