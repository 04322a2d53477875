"""Finds the kiosk's serial devices on this machine's ports (kiosk.devices.DeviceFinder).

Each free serial port is asked, in the device's own protocol, what is on it: first the
printer's real-time status query (DLE EOT: three bytes that a printer answers with one and
prints nothing for, and that the ID card reader drops as noise before a frame's preamble),
then, where no printer answered, the ID card reader's SAM id (AA AA AA 96 69 … 12 FF), each
at the device's configured rate first and then the usual ones. The order matters: a
reader's frame sent to a printer would be printed as junk, the printer's query costs a
reader nothing. A port the terminal uses now is not asked (its bytes would be taken from
the driver reading it). A scanner only sends: it is found by :meth:`SerialFinder.listen`
while the technician scans a code, which is dropped unread.

The ports looked at are the stable names of the udev rules (systemd/99-govkiosk.rules), the
USB-serial and ACM ports, and the serial ports the kernel reports with a device behind them;
``[technician] serial_ports`` in the config replaces them with globs of its own (the demo's
rig: links to its emulators' ptys, as udev's links are to the real ports).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kiosk.devices import BAUDRATES, IN_USE, NOTHING, UNREADABLE, Finding
from kiosk.errors import DeviceError
from peripherals.errors import cause

log = logging.getLogger(__name__)

DEFAULT_PORTS = ("/dev/kiosk-*", "/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*")
REPLY_WAIT = 0.3  # s a device has to answer one question (a real one answers in ms)
LISTEN_SLICE = 0.2  # s between looks at the stop flag while listening for a scan


# ttyS (minor 64 up: below are the virtual consoles), ttyACM, ttyUSB, low-density serial
# ports, and the ptys an emulator or a serial server opens
TTY_MAJORS = {4, 166, 188, 204, *range(136, 144)}


def _tty(real: str) -> bool:
    """A serial line (a camera, a printer's USB class device or a console is not one)."""
    try:
        st = os.stat(real)
    except OSError:
        return False
    if not stat.S_ISCHR(st.st_mode):
        return False
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    subsystem = os.path.realpath(f"/sys/dev/char/{major}:{minor}/subsystem")
    return serial_line(major, minor, os.path.basename(subsystem))


def serial_line(major: int, minor: int, subsystem: str) -> bool:
    """Whether the character device ``major:minor`` (of the kernel's ``subsystem``) is a
    serial line: ttyS (minor 64 up: below are the virtual consoles), ttyACM, ttyUSB, the
    ptys, or one whose driver has a major of its own and files it under tty (a CH9344's
    ttyCH9344USB0); never /dev/tty, the console or ptmx (major 5)."""
    if major in TTY_MAJORS:
        return not (major == 4 and minor < 64)
    return subsystem == "tty" and major != 5


def _rank(name: str) -> int:
    """Which of several names of one port a technician should read: the udev rules' own,
    then the stable by-id link, then the kernel's."""
    if os.path.basename(name).startswith("kiosk-"):
        return 0
    return 1 if "/serial/by-" in name else 2


def serial_ports(patterns: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(name, the port it is, what the system says is behind it) for each serial port, one
    line a port however many names link to it. ``patterns``: globs replacing the usual ones
    (and the kernel's list)."""
    names = [n for pattern in (patterns or DEFAULT_PORTS) for n in sorted(glob.glob(pattern))]
    if not patterns:
        from serial.tools import list_ports

        names += [p.device for p in list_ports.comports()]
    ports: dict[str, str] = {}
    for name in names:
        real = os.path.realpath(name)
        if not _tty(real):
            continue  # a dangling link, or a camera's stable name
        if real not in ports or _rank(name) < _rank(ports[real]):
            ports[real] = name
    return [(name, real, _about(real)) for real, name in sorted(ports.items(), key=lambda x: x[1])]


def _about(real: str) -> str:
    try:
        from serial.tools.list_ports_linux import SysFS

        info = SysFS(real)
    except Exception:  # noqa: BLE001 - sysfs of an odd port: it just says nothing
        return ""
    return "" if info.description in ("n/a", os.path.basename(real)) else info.description


def _rates(device: str, configured: dict[str, int]) -> list[int]:
    """The rates to ask ``device`` at: its configured one first, then the usual ones."""
    first = configured.get(device)
    rest = [r for r in BAUDRATES[device] if r != first]
    return [first, *rest] if first else rest


def _openable(name: str) -> str:
    """Why ``name`` cannot be opened ("" when it can): no permission, gone, busy."""
    import serial

    try:
        serial.Serial(name, timeout=0).close()
    except (serial.SerialException, OSError, ValueError) as err:
        return f"cannot open {name}: {cause(err)}"
    return ""


def probe(name: str, real: str, about: str, configured: dict[str, int]) -> Finding:
    """What answers on one free port: a printer, else an ID card reader, else nothing."""
    from peripherals.idcard.driver import SerialIdCardReader
    from peripherals.printer.driver import EscposPrinter

    same_as = real if real != name else ""
    if why := _openable(name):
        return Finding(name, same_as, about, UNREADABLE, detail=why)
    for rate in _rates("printer", configured):
        printer = EscposPrinter(f"serial://{name}?baudrate={rate}", timeout=REPLY_WAIT)
        try:
            return Finding(name, same_as, about, "printer", rate, printer.status().value)
        except DeviceError:
            continue  # silent, or not a printer's answer at this rate
        finally:
            printer.close()
    for rate in _rates("idcard", configured):
        reader = SerialIdCardReader(name, baudrate=rate, reply_timeout=REPLY_WAIT, log_faults=False)
        try:
            return Finding(name, same_as, about, "idcard", rate, reader.sam_id())
        except DeviceError:
            continue
        finally:
            reader.close()
    return Finding(name, same_as, about, NOTHING)


def _used(in_use: dict[str, str]) -> dict[str, str]:
    return {os.path.realpath(port): device for port, device in in_use.items()}


class SerialFinder:
    """kiosk.devices.DeviceFinder over this machine's serial ports."""

    def __init__(self, patterns: tuple[str, ...] = ()) -> None:
        self.patterns = tuple(patterns)

    def find(self, in_use: dict[str, str], rates: dict[str, int]) -> list[Finding]:
        used = _used(in_use)
        ports = serial_ports(self.patterns)
        free = [(n, r, a) for n, r, a in ports if r not in used]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="find-devices") as pool:
            asked = dict(zip([r for _, r, _ in free],
                             pool.map(lambda p: probe(*p, rates), free), strict=True))  # fmt: skip
        out = []
        for name, real, about in ports:
            if real in used:
                out.append(Finding(name, real if real != name else "", about, IN_USE,
                                   used_by=used[real]))  # fmt: skip
            else:
                out.append(asked[real])
        log.info("looked for devices on %d serial ports: %s", len(out),
                 ", ".join(f"{f.port}={f.found}" for f in out) or "none")  # fmt: skip
        return out

    def listen(self, in_use: dict[str, str], baudrate: int, seconds: float,
               stop: threading.Event) -> Finding | None:  # fmt: skip
        from peripherals.scanner.driver import SerialCodeScanner

        used = _used(in_use)
        free = [(n, r, a) for n, r, a in serial_ports(self.patterns) if r not in used]
        heard: list[Finding] = []
        done = threading.Event()

        def watch(name: str, real: str, about: str) -> None:
            scanner = SerialCodeScanner(name, baudrate=baudrate)
            deadline = time.monotonic() + seconds
            try:
                while not (done.is_set() or stop.is_set()) and time.monotonic() < deadline:
                    try:
                        code = scanner.read_code(LISTEN_SLICE)
                    except DeviceError:
                        return  # it cannot be opened: no scanner here
                    if code is not None:  # dropped unread: it may be a citizen's
                        heard.append(Finding(name, real if real != name else "", about,
                                             "scanner", baudrate))  # fmt: skip
                        done.set()
            finally:
                with contextlib.suppress(DeviceError):
                    scanner.close()

        threads = [threading.Thread(target=watch, args=p, name=f"listen-{p[0]}", daemon=True)
                   for p in free]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return heard[0] if heard else None
