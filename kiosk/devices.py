"""Which serial port each of the terminal's serial devices is on, and which camera is which,
as its technician set them on the technician screen. Pure logic: no serial port is opened here (peripherals/discovery.py
finds and probes the ports; the composition root hands its finder to the terminal).

The config file names the ports by the stable names the udev rules give
(``/dev/kiosk-idcard``…, systemd/99-govkiosk.rules). A reader whose USB-serial bridge the
rules do not know, or a cable moved to another port, leaves a device on no port at all, and
a technician at the kiosk has no editor and no shell. The technician screen lets them look
for the devices ("查找设备": every free serial port is asked, in the printer's and the ID
card reader's own protocol, what is on it; a scanner is found by scanning a code) and put a
device on the port where it was found. That choice is kept in ``data_dir/devices.json``
(a :class:`Placement` a device) and laid over the config file at every start
(:func:`with_placements`), so it outlives a restart; the file is the technician's, written
only by the screen, and holds no personal data.

The two cameras' udev names go by the hub port each is plugged into: cables swapped, the
document camera is taken for the face camera. The technician screen shows what each one
sees (and whether that is a page, or a face) and swaps them (:func:`swapped_cameras`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlsplit

from kiosk.files import replace_file

if TYPE_CHECKING:
    import threading

    from kiosk.config import KioskConfig

log = logging.getLogger(__name__)

FILE = "devices.json"
PLACEABLE = ("idcard", "printer", "scanner")  # the serial devices a technician may place
# and the two cameras, which a technician may swap: their udev names go by the hub's port
# each is plugged into, so two cables swapped give the face check the document camera
CAMERAS = ("document_camera", "face_camera")
# and the receipt paper's width: a 58 mm roll printed as 80 mm loses every line's end
PAPER, PAPER_WIDTHS = "paper_mm", (58, 80)
# the rates each device is asked at when looked for (its configured rate first); a real
# scanner only sends, so it is found by a scan, at its configured rate
BAUDRATES = {"printer": (9600, 19200, 38400, 115200), "idcard": (115200, 9600)}
# what a port is found to be, beside a device's name
NOTHING, IN_USE, UNREADABLE = "nothing", "in_use", "unreadable"
# the "port" of a scanner that types its codes as a USB keyboard (found by its keys)
WEDGE = "wedge"


@dataclass(frozen=True)
class Placement:
    """A device on a serial port at a rate, or a camera on a capture source."""

    device: str  # one of PLACEABLE or CAMERAS
    port: str  # a serial port's path; a camera's source ("v4l2:///dev/video0")
    baudrate: int  # 0 for a camera


@dataclass(frozen=True)
class CameraView:
    """What one camera shows now, for the technician to tell the two apart."""

    device: str  # one of CAMERAS
    source: str
    preview: object | None  # a kiosk.ports.Frame (raw RGB, small), None: no picture
    sees: str  # "page" or "face": what that camera is for, found in the picture; "" not
    detail: str = ""  # why there is no picture


@dataclass(frozen=True)
class Finding:
    """What one serial port of this machine was found to have on it."""

    port: str  # as the technician reads it: the stable name when there is one
    same_as: str  # the port a name links to ("/dev/ttyUSB0"), "" when it is no link
    about: str  # what the system says is plugged in ("USB-Serial Controller"), or ""
    found: str  # a device of PLACEABLE, NOTHING, IN_USE (by ``used_by``) or UNREADABLE
    baudrate: int = 0  # the rate it answered at
    detail: str = ""  # the reader's SAM id, the printer's state, why it could not be opened
    used_by: str = ""  # the device the terminal has on this port now

    @property
    def placeable(self) -> bool:
        """A device answered here that the terminal does not have on this port yet."""
        return self.found in PLACEABLE


class DeviceFinder(Protocol):
    """Looks for the serial devices on this machine's ports (peripherals/discovery.py)."""

    def find(self, in_use: dict[str, str], rates: dict[str, int]) -> list[Finding]:
        """Every serial port, and what answered on it. ``in_use``: port → the device the
        terminal has there (left alone: asking would take its bytes); ``rates``: each
        device's configured rate, tried first."""
        ...

    def listen(self, in_use: dict[str, str], baudrate: int, seconds: float,
               stop: threading.Event) -> Finding | None:  # fmt: skip
        """The free port a code arrives on within ``seconds`` (a scanner being tried), or
        None. The code itself is dropped unread: it may be a citizen's."""
        ...


# -- the technician's choices, kept ------------------------------------------------------


def _kept(data_dir: Path | str) -> dict:
    """The file as it is: {} when missing or damaged (then the config file holds). Never
    raises."""
    path = Path(data_dir) / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("device ports in %s not read (%s): the config file's ports are used", path, err)
        return {}
    return data if isinstance(data, dict) else {}


def _keep(data_dir: Path | str, data: dict) -> None:
    """:raises OSError: the data dir cannot be written."""
    replace_file(Path(data_dir) / FILE, json.dumps(data, ensure_ascii=False, indent=1,
                                                   sort_keys=True) + "\n")  # fmt: skip


def load_placements(data_dir: Path | str) -> dict[str, Placement]:
    """The placements kept in ``data_dir``; a file that is missing or damaged is none (the
    config file's ports hold), a damaged entry is skipped. Never raises."""
    out: dict[str, Placement] = {}
    for device, entry in _kept(data_dir).items():
        try:
            port, rate = entry["port"], entry["baudrate"]
        except (TypeError, KeyError):
            continue
        if not isinstance(port, str) or not isinstance(rate, int) or isinstance(rate, bool):
            continue
        if (device in PLACEABLE and port.startswith("/") and rate > 0) or (
                device in CAMERAS and "://" in port and rate == 0) or (
                device == "scanner" and port == WEDGE and rate == 0):  # fmt: skip
            out[device] = Placement(device, port, rate)
    return out


def save_placement(data_dir: Path | str, *placements: Placement) -> dict[str, Placement]:
    """Keep ``placements`` beside the others (at once, atomically, readable by the kiosk's
    user only); all of them now.

    :raises OSError: the data dir cannot be written.
    """
    data = _kept(data_dir)
    data.update({p.device: {"port": p.port, "baudrate": p.baudrate} for p in placements})
    _keep(data_dir, data)
    return load_placements(data_dir)


def load_paper(data_dir: Path | str) -> int | None:
    """The receipt paper's width (mm) the technician set; None: the config file's."""
    mm = _kept(data_dir).get(PAPER)
    return mm if mm in PAPER_WIDTHS and not isinstance(mm, bool) else None


def save_paper(data_dir: Path | str, mm: int) -> None:
    """Keep the receipt paper's width beside the placements.

    :raises ValueError: not a width the printer driver lays receipts out for.
    :raises OSError: the data dir cannot be written.
    """
    if mm not in PAPER_WIDTHS:
        raise ValueError(f"paper is {' or '.join(map(str, PAPER_WIDTHS))} mm wide, not {mm}")
    _keep(data_dir, {**_kept(data_dir), PAPER: mm})


def with_paper(cfg: KioskConfig, mm: int | None) -> KioskConfig:
    """``cfg`` with the receipt paper ``mm`` wide (None: as it is)."""
    if mm is None or cfg.printer.driver != "escpos":
        return cfg
    return replace(cfg, printer=replace(cfg.printer, paper_mm=mm))


def with_placements(cfg: KioskConfig, placements: dict[str, Placement]) -> KioskConfig:
    """``cfg`` with each placed device on its port (a scanner placed on ``WEDGE`` takes the
    keyboard-type driver, one on a port the serial one), each camera on its source: a device
    the config file has switched off ("none", no camera source) stays off."""
    p = placements.get("idcard")
    if p is not None and cfg.idcard.driver == "ga467":
        cfg = replace(cfg, idcard=replace(cfg.idcard, port=p.port, baudrate=p.baudrate))
    p = placements.get("printer")
    if p is not None and cfg.printer.driver == "escpos":
        cfg = replace(cfg, printer=replace(cfg.printer,
                                           connection=f"serial://{p.port}?baudrate={p.baudrate}"))  # fmt: skip
    p = placements.get("scanner")
    if p is not None and cfg.scanner.driver != "none":  # a serial one, or one that types
        cfg = replace(cfg, scanner=replace(cfg.scanner, driver="wedge") if p.port == WEDGE
                      else replace(cfg.scanner, driver="serial", port=p.port, baudrate=p.baudrate))  # fmt: skip
    document, face = placements.get("document_camera"), placements.get("face_camera")
    if document is not None and cfg.camera.document:  # "" is a kiosk without that camera
        cfg = replace(cfg, camera=replace(cfg.camera, document=document.port))
    if face is not None and cfg.camera.face:
        cfg = replace(cfg, camera=replace(cfg.camera, face=face.port))
    return cfg


def swapped_cameras(cfg: KioskConfig) -> tuple[Placement, Placement]:
    """The document camera on the face camera's source and the other way round.

    :raises ValueError: the kiosk has not both cameras.
    """
    if not (cfg.camera.document and cfg.camera.face):
        raise ValueError("a kiosk with both cameras only")
    return (Placement("document_camera", cfg.camera.face, 0),
            Placement("face_camera", cfg.camera.document, 0))  # fmt: skip


def serial_in_use(cfg: KioskConfig) -> dict[str, str]:
    """Port → the device ``cfg`` has on it (serial devices only: a network printer has none)."""
    out: dict[str, str] = {}
    if cfg.idcard.driver == "ga467":
        out[cfg.idcard.port] = "idcard"
    printer = serial_of(cfg.printer.connection) if cfg.printer.driver == "escpos" else None
    if printer is not None:
        out[printer[0]] = "printer"
    if cfg.scanner.driver == "serial":
        out[cfg.scanner.port] = "scanner"
    return out


def serial_of(connection: str) -> tuple[str, int] | None:
    """(port, rate) of a printer connection ``serial:///dev/ttyX?baudrate=N``; None for
    any other (a network printer)."""
    u = urlsplit(connection)
    if u.scheme != "serial" or not u.path:
        return None
    try:
        rate = int(parse_qs(u.query).get("baudrate", ["9600"])[-1])
    except ValueError:
        rate = 9600
    return u.path, rate


def configured_rates(cfg: KioskConfig) -> dict[str, int]:
    """Each placeable device's configured rate (asked first when devices are looked for)."""
    printer = serial_of(cfg.printer.connection)
    return {"idcard": cfg.idcard.baudrate, "printer": printer[1] if printer else 9600,
            "scanner": cfg.scanner.baudrate}  # fmt: skip


def where(cfg: KioskConfig, device: str) -> str:
    """Where ``cfg`` has ``device``: its serial port, a printer's network address, or ""
    when it is switched off or a keyboard-wedge scanner."""
    if device == "idcard":
        return cfg.idcard.port if cfg.idcard.driver == "ga467" else ""
    if device == "printer":
        if cfg.printer.driver != "escpos":
            return ""
        serial = serial_of(cfg.printer.connection)
        return serial[0] if serial else cfg.printer.connection
    if device == "scanner":
        return cfg.scanner.port if cfg.scanner.driver == "serial" else ""
    if device in CAMERAS:
        return cfg.camera.document if device == "document_camera" else cfg.camera.face
    raise ValueError(f"not a placeable device: {device!r}")
