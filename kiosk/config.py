"""The terminal's configuration: one TOML file, read into plain dataclasses.

Every device and the platform are chosen here, so the emulator and the real
device are one setting apart (STYLE.md, "Choose the implementation by
configuration").
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class ConfigError(KioskError):
    message_key = "error.config"


@dataclass(frozen=True)
class TerminalConfig:
    id: str = "unenrolled"
    service_point: str = ""  # service point code (catalog)
    point_name: str = ""  # shown in the header
    notices: tuple[str, ...] = ()  # the attract screen's rotating notices
    language: str = "zh"
    elderly_default: bool = False
    # where it stands in its hall, as its staff name it on the dashboard ("东侧入口 1 号机"):
    # pushed with the remote settings, shown on the technician screen
    place: str = ""


@dataclass(frozen=True)
class DisplayConfig:
    width: int = 1080
    height: int = 1920
    fullscreen: bool = True  # borderless at (0, 0), the size of the screen
    show_cursor: bool = False


@dataclass(frozen=True)
class IdCardConfig:
    driver: str = "ga467"  # ga467 | none
    port: str = "/dev/kiosk-idcard"
    baudrate: int = 115200


@dataclass(frozen=True)
class SocialCardConfig:
    driver: str = "pcsc"  # pcsc | none
    reader: str = ""  # empty: the first reader


@dataclass(frozen=True)
class PrinterConfig:
    driver: str = "escpos"  # escpos | none
    connection: str = "tcp://127.0.0.1:9100"  # or serial:///dev/kiosk-printer?baudrate=9600
    paper_mm: int = 80


@dataclass(frozen=True)
class CameraConfig:
    document: str = "v4l2://0"
    face: str = "v4l2://1"


@dataclass(frozen=True)
class ScannerConfig:
    driver: str = "serial"  # serial | wedge (a USB scanner that types) | none
    port: str = "/dev/kiosk-scanner"
    baudrate: int = 9600


@dataclass(frozen=True)
class PlatformConfig:
    url: str = "http://127.0.0.1:8080"
    timeout: float = 10.0
    heartbeat_interval: float = 30.0


@dataclass(frozen=True)
class TimeoutsConfig:
    inactivity: float = 90.0  # seconds of no touch before the "still there?" prompt
    warning: float = 30.0  # length of that prompt's countdown (WCAG 2.2.1: >= 20 s)
    elderly_factor: float = 2.0
    # seconds a card may stay in its reader after the visit ends (the goodbye asks for it,
    # aloud too) before the kiosk calls staff to collect it and shows the attract screen
    card_left: float = 60.0


@dataclass(frozen=True)
class TechnicianConfig:
    # the technician PIN's salted hash (``kiosk set-pin`` prints one, or keeps it in the
    # data dir, which wins); '' and no PIN file: the technician screen stays shut
    pin_hash: str = ""
    # where "find devices" looks for serial ports: globs replacing the usual ones (the udev
    # rules' /dev/kiosk-*, /dev/serial/by-id/*, ttyUSB*, ttyACM* and the kernel's serial
    # ports with a device behind them: peripherals/discovery.py); empty: the usual ones
    serial_ports: tuple[str, ...] = ()


@dataclass(frozen=True)
class KioskConfig:
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    idcard: IdCardConfig = field(default_factory=IdCardConfig)
    sscard: SocialCardConfig = field(default_factory=SocialCardConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    timeouts: TimeoutsConfig = field(default_factory=TimeoutsConfig)
    technician: TechnicianConfig = field(default_factory=TechnicianConfig)
    data_dir: str = "/var/lib/govkiosk"


# each device's drivers (kiosk.cli.build_ports makes them); "none": no such device fitted
DRIVERS: dict[str, tuple[str, ...]] = {
    "idcard": ("ga467", "none"),
    "sscard": ("pcsc", "none"),
    "printer": ("escpos", "none"),
    "scanner": ("serial", "wedge", "none"),
}


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if not hasattr(defaults, key):
            raise ConfigError(f"{where}: unknown setting {key!r}")
        default = getattr(defaults, key)
        if is_dataclass(default):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key}: expected a table")
            kwargs[key] = _build(type(default), value, f"{where}.{key}")
            continue
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(str(v) for v in value)
        if type(value) is not type(default):
            raise ConfigError(
                f"{where}.{key}: expected {type(default).__name__}, got {type(value).__name__}"
            )
        kwargs[key] = value
    return cls(**kwargs)


def load_config(path: Path | None) -> KioskConfig:
    """Read a kiosk TOML file; missing settings take their defaults.

    :raises ConfigError: unreadable file, bad TOML, unknown setting or wrong type.
    """
    if path is None:
        return KioskConfig()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from err
    cfg = _build(KioskConfig, data, str(path))
    for section, known in DRIVERS.items():
        driver = getattr(cfg, section).driver
        if driver not in known:  # a typo would leave the kiosk without the device, silently
            raise ConfigError(
                f"{path}: {section}.driver: unknown driver {driver!r} (one of: {', '.join(known)})"
            )
    return cfg


def dump_config(cfg: KioskConfig) -> str:
    """The config as TOML text (for the supervisor's generated demo config)."""
    lines: list[str] = []
    top = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if is_dataclass(value):
            lines.append(f"\n[{f.name}]")
            for sf in fields(value):
                lines.append(f"{sf.name} = {_toml_value(getattr(value, sf.name))}")
        else:
            top.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(top + lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


CHINA = "Asia/Shanghai"


def china_time(moment: dt.datetime | None = None) -> dt.datetime:
    """A moment as the county's clocks show it (China Standard Time), whatever the
    machine's own time zone; naive moments are taken as UTC."""
    from zoneinfo import ZoneInfo

    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(CHINA))


# -- remote configuration (pushed from the dashboard in heartbeat replies) -----------------

REMOTE_FILE = "remote-config.json"  # the last settings received, kept in the data dir
# setting → (lowest, highest) accepted; a value outside is ignored, the local one stays
REMOTE_RANGES = {"inactivity": (30.0, 900.0), "warning": (20.0, 180.0),
                 "elderly_factor": (1.0, 4.0)}  # fmt: skip
MAX_NOTICES, NOTICE_CHARS = 8, 80


def _clipped(notice: str) -> str:
    """A notice cut to NOTICE_CHARS characters in Chinese and twice that in English
    (about as long on the screen)."""
    from kiosk.i18n import NOTICE_SEPARATOR, notice_parts

    zh, en = notice_parts(notice)
    return f"{zh[:NOTICE_CHARS]} {NOTICE_SEPARATOR} {en[:2 * NOTICE_CHARS]}" if en else zh[:NOTICE_CHARS]


def as_enrolled(cfg: KioskConfig, terminal_id: str, service_point: str = "") -> KioskConfig:
    """``cfg`` speaking as the terminal the platform enrolled: its id and, when the
    enrolment names one, its service point. The platform's record of where the terminal
    stands wins over the file: submissions and tickets are counted for that hall. A file
    naming another point keeps its own header name only when the point is the same."""
    terminal = replace(cfg.terminal, id=terminal_id)
    if service_point and service_point != cfg.terminal.service_point:
        log.warning("config names service point %r, the platform enrolled this terminal at %r: "
                    "using the enrolment (correct terminal.service_point in the config file)",
                    cfg.terminal.service_point, service_point)  # fmt: skip
        terminal = replace(terminal, service_point=service_point, point_name="")
    return replace(cfg, terminal=terminal)


PLACE_CHARS = 32  # as the dashboard keeps it (central.dashboard.data.PLACE_MAX)


def with_remote(cfg: KioskConfig, settings: Any) -> KioskConfig:
    """``cfg`` (the terminal's own file) with the platform's remote settings laid over it:
    timeouts, the attract screen's notices, the elderly-mode default and its place in the
    hall. A setting that is
    missing, of the wrong type or out of range leaves the local value as it is."""
    if not isinstance(settings, dict):
        return cfg
    timeouts: dict[str, float] = {}
    for name, (low, high) in REMOTE_RANGES.items():
        value = settings.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            timeouts[name] = float(value)
    terminal: dict[str, Any] = {}
    notices = settings.get("notices")
    if isinstance(notices, list) and all(isinstance(n, str) for n in notices):
        terminal["notices"] = tuple(_clipped(n) for n in notices[:MAX_NOTICES] if n.strip())
    if isinstance(settings.get("elderly_default"), bool):
        terminal["elderly_default"] = settings["elderly_default"]
    place = settings.get("place")
    if isinstance(place, str) and place.isprintable():
        terminal["place"] = " ".join(place.split())[:PLACE_CHARS]
    return replace(cfg, timeouts=replace(cfg.timeouts, **timeouts),
                   terminal=replace(cfg.terminal, **terminal))  # fmt: skip


def load_remote(data_dir: Path | str) -> tuple[int, dict[str, Any]]:
    """The last remote settings this terminal received: (version, settings); (0, {}) if none."""
    import json

    try:
        data = json.loads((Path(data_dir) / REMOTE_FILE).read_text(encoding="utf-8"))
        version, settings = data["version"], data["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0, {}
    if not isinstance(version, int) or not isinstance(settings, dict):
        return 0, {}
    return version, settings


def save_remote(data_dir: Path | str, version: int, settings: dict[str, Any]) -> None:
    """Keep the remote settings (atomically) so a restart, or a day offline, keeps them."""
    import json

    from kiosk.files import replace_file

    replace_file(Path(data_dir) / REMOTE_FILE,
                 json.dumps({"version": version, "settings": settings}, ensure_ascii=False))
