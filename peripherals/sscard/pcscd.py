"""A private pcscd with the vpcd virtual reader, for tests and the demo.

Several can run at once and none touches the system daemon's socket. What
was found on this machine (Debian 12, pcsc-lite 1.9.9, vsmartcard-vpcd 3.3):

- libpcsclite (the client) honours ``PCSCLITE_CSOCK_NAME``; pcscd 1.9.9
  does **not** (it always binds ``/run/pcscd/pcscd.comm``). But pcscd takes
  a systemd-style socket activation (``LISTEN_FDS=1``, ``LISTEN_PID`` = its
  pid, the listening socket on fd 3): we create the Unix socket at a private
  path and hand it over, and a client with ``PCSCLITE_CSOCK_NAME`` set to
  that path sees only this daemon's readers. Socket-activated, pcscd also
  skips its "another pcscd is running" check and leaves the socket file alone.
- pcscd still writes, and removes on exit, ``/run/pcscd/pcscd.pid``. Nothing
  in the client reads it, but a system pcscd on the same machine loses its
  pid file while a private one runs (only ``pcscd --hotplug`` uses it).
- libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once, at the process's first
  PC/SC call, and keeps it: set it (``os.environ.update(daemon.env())``)
  before the first ``SCardEstablishContext`` in the process, and use one
  socket path per process. Restarting a daemon on the same path is fine.
- vpcd opens two reader slots, "Virtual PCD 00 00" on port N and
  "Virtual PCD 00 01" on N+1, listening on all addresses; so ports are
  allocated in pairs.
- As root, ``pcscd -f`` runs fine. As another user (tried: ``runuser -u
  nobody``) the socket-activated daemon also works, only logging that it
  cannot write the pid file, provided ``/run/pcscd`` exists (pcscd exits
  if it has to create it and may not).
- pcscd also watches USB (libudev): a real reader plugged into the machine
  shows up in a private daemon too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from kiosk.errors import DeviceError

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
INSTALL_HINT = "apt-get install pcscd vsmartcard-vpcd"

# The shell sets LISTEN_PID to its own pid, which ``exec`` hands to pcscd, and
# moves the listening socket from stdin to fd 3 (SD_LISTEN_FDS_START).
_LAUNCH = (
    'LISTEN_PID=$$ LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$0" "$@" 3<&0 0</dev/null'
)


class PcscDaemonError(DeviceError):
    """The private pcscd is missing or did not start."""


def find_pcscd() -> str:
    """Path of the pcscd binary (often in /usr/sbin, outside a user's PATH).

    :raises PcscDaemonError: pcscd or the vpcd driver is not installed.
    """
    found = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if found is None:
        raise PcscDaemonError(f"pcscd is not installed ({INSTALL_HINT})")
    if not VPCD_DRIVER.exists():
        raise PcscDaemonError(f"vpcd driver {VPCD_DRIVER} missing ({INSTALL_HINT})")
    return found


def free_port_pair() -> int:
    """A port N with N and N+1 both free on all addresses (vpcd binds 0.0.0.0)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("0.0.0.0", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("0.0.0.0", port + 1))
                except OSError:
                    continue
                return port
    raise PcscDaemonError("no free pair of TCP ports for vpcd")


def _listening(port: int) -> bool:
    """Whether something listens on TCP ``port`` (read from /proc: connecting
    to vpcd would look like a card being inserted)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[1].endswith(wanted) and fields[3] == "0A":
                return True
    return False


class PcscDaemon:
    """``pcscd -f -c <private reader.conf.d>`` on a private socket, vpcd on ``vpcd_port``.

    >>> daemon = PcscDaemon(); daemon.start()
    >>> os.environ.update(daemon.env())   # before the first PC/SC call
    >>> daemon.stop()
    """

    def __init__(
        self,
        vpcd_port: int | None = None,
        *,
        socket_path: str | os.PathLike[str] | None = None,
        debug: bool = False,
    ) -> None:
        self.vpcd_port = vpcd_port
        self.debug = debug
        self._dir: Path | None = None
        self._socket_path = Path(socket_path) if socket_path else None
        self._listener: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The daemon's process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def socket_path(self) -> Path:
        if self._socket_path is None:
            raise PcscDaemonError("pcscd not started yet")
        return self._socket_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        return self._dir / "pcscd.log" if self._dir else None

    def env(self) -> dict[str, str]:
        """Environment a client process needs to reach this daemon."""
        return {SOCKET_ENV: str(self.socket_path)}

    def start(self, timeout: float = 10.0) -> None:
        """Start pcscd and wait until vpcd listens on both slot ports.

        Starting again after ``stop()`` reuses the socket path and ports.

        :raises PcscDaemonError: pcscd/vpcd missing, or pcscd exited or did
            not open vpcd's ports within ``timeout`` (with its log tail).
        """
        if self.running:
            return
        pcscd = find_pcscd()
        if self.vpcd_port is None:
            self.vpcd_port = free_port_pair()
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        conf = self._dir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{self.vpcd_port:04X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    0x{self.vpcd_port:04X}\n"
        )
        if self._socket_path is None:
            self._socket_path = self._dir / "pcscd.comm"
        self._socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self._socket_path))
        os.chmod(self._socket_path, 0o666)
        listener.listen(16)
        self._listener = listener
        args = [pcscd, "-f", "-c", str(conf)] + (["-d", "-a"] if self.debug else [])
        assert self.log_path is not None
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                ["/bin/sh", "-c", _LAUNCH, *args],
                stdin=listener.fileno(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env()},
            )
        # pcscd owns the socket now; without our copy, a dead pcscd means
        # "connection refused" for clients instead of a hang.
        listener.close()
        self._listener = None
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None and self.vpcd_port is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._cleanup()
                raise PcscDaemonError(f"pcscd exited with status {code}: {self._log_tail()}")
            if _listening(self.vpcd_port) and _listening(self.vpcd_port + 1):
                return
            time.sleep(0.05)
        self.stop()
        raise PcscDaemonError(
            f"vpcd did not listen on port {self.vpcd_port} within {timeout:g} s: {self._log_tail()}"
        )

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            text = ""
        tail = " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())
        return tail or "(no output)"

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate pcscd (SIGTERM, then SIGKILL) and remove its socket; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._socket_path is not None:
            self._socket_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop and delete the temporary directory (config, log)."""
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PcscDaemon:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
