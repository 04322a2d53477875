"""What a technician reads when a terminal misbehaves: logs, versions, device history,
configuration, in one zip, with no personal data.

- ``log_to_file(data_dir)``: the kiosk's log, rotated under ``data_dir/logs``; every
  line passes ``kiosk.privacy.scrub`` on the way (ID and phone numbers never land).
- ``HealthHistory``: each device's state as heartbeats and self-tests saw it, one JSON
  line per change, bounded.
- ``build_bundle(cfg, now)``: the zip (bytes). Logs are scrubbed again, secrets are
  taken out of the configuration, the credentials, the outbox and its key are never
  read, and the finished zip is scanned (``kiosk.privacy.scan_bundle``): a bundle
  with anything personal in it is refused, not written.

Standard library only (and python-stdnum through kiosk.privacy).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import logging.handlers
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kiosk import privacy
from kiosk.config import KioskConfig, _toml_value
from kiosk.errors import KioskError
from kiosk.health import Health

LOG_DIR, LOG_FILE = "logs", "kiosk.log"
HISTORY_FILE = "health-history.jsonl"
SELFTEST_FILE = "selftest-last.json"
LOG_BYTES, LOG_BACKUPS = 1024 * 1024, 3
MAX_BUNDLE = 8 * 1024 * 1024
PACKAGES = ("govkiosk", "kivy", "aiohttp", "pyscard", "pyserial", "python-escpos",
            "opencv-python-headless", "numpy", "pillow", "python-stdnum", "cryptography")  # fmt: skip
SECRET_WORDS = re.compile(r"secret|token|password|passwd|credential|pin_hash|key$", re.IGNORECASE)

log = logging.getLogger(__name__)


class DiagnosticsError(KioskError):
    """A bundle not made; ``reason``: "personal" (personal data found in it), "size" (too
    large), or "" (anything else), as the terminal tells the platform."""

    message_key = "error.diagnostics"

    def __init__(self, detail: str = "", *, reason: str = "") -> None:
        super().__init__(detail)
        self.reason = reason


# -- the log file ---------------------------------------------------------------------


def log_to_file(data_dir: Path | str, level: int = logging.INFO) -> Path:
    """Send the root logger to ``data_dir/logs/kiosk.log`` (1 MiB × 4, mode 0600); idempotent."""
    folder = Path(data_dir) / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOG_FILE
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    old = os.umask(0o077)
    try:
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    finally:
        os.umask(old)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(privacy.ScrubFilter())
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return path


# -- device history -----------------------------------------------------------------------


class HealthHistory:
    """``data_dir/health-history.jsonl``: one line each time a device's state (or the paper)
    changes, and one per self-test; the oldest lines go once there are more than ``keep``."""

    def __init__(self, path: Path | str, keep: int = 2000):
        self.path = Path(path)
        self.keep = keep
        self._last = ""
        self._kept_size = 0  # bytes left by the last trim: the next waits for half as many more

    def record(self, source: str, devices: Iterable[Health], at: dt.datetime,
               paper: str = "", always: bool = False) -> bool:  # fmt: skip
        """Append a line when something changed (or ``always``); True when one was written."""
        states = [{"device": h.device, "state": h.state.value, "reason": privacy.scrub(h.reason)}
                  for h in devices]  # fmt: skip
        key = json.dumps([states, paper], sort_keys=True)
        if key == self._last and not always:
            return False
        self._last = key
        line = json.dumps({"at": at.isoformat(), "source": source, "paper": paper,
                           "devices": states}, ensure_ascii=False)  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        # trimmed once it is half as big again as the last trim left it (and over a floor):
        # a bound of keep × 400 bytes alone was under ``keep`` lines of a kiosk with several
        # devices, so every change rewrote the whole file
        if self.path.stat().st_size > max(self.keep * 400, self._kept_size * 3 // 2):
            self._trim()
        return True

    def _trim(self) -> None:
        text = "".join(self.path.read_text(encoding="utf-8").splitlines(keepends=True)[-self.keep :])
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)
        self._kept_size = len(text.encode())

    def lines(self, last: int = 1000) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines()[-last:]
        except FileNotFoundError:
            return []


def record_selftest(data_dir: Path | str, checks: Iterable[Any], at: dt.datetime) -> None:
    """Keep the last self-test's table (device, passed, detail) and add it to the history."""
    rows = [
        {"device": c.device, "passed": c.passed, "detail": privacy.scrub(c.detail)} for c in checks
    ]
    path = Path(data_dir) / SELFTEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"at": at.isoformat(), "checks": rows}, ensure_ascii=False,
                               indent=1), encoding="utf-8")  # fmt: skip
    health = [Health.good(r["device"]) if r["passed"] else Health.fault(r["device"], r["detail"])
              for r in rows]  # fmt: skip
    HealthHistory(Path(data_dir) / HISTORY_FILE).record("selftest", health, at, always=True)


# -- the bundle ---------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    """Python, the operating system and the packages that matter, read without importing them."""
    import importlib.metadata  # here, not at the top: with platform, 20 ms of the kiosk's start
    import platform

    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "os": os_name, "kernel": platform.release(), "machine": platform.machine(),
            "packages": packages}  # fmt: skip


def _clean_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.username or parts.password or parts.query):
        return value
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redacted_config(cfg: KioskConfig) -> str:
    """The configuration as TOML with secrets and URL credentials taken out."""

    def clean(name: str, value: Any) -> Any:
        if SECRET_WORDS.search(name) and value:
            return "[removed]"
        if isinstance(value, str) and "://" in value:
            return _clean_url(value)
        return value

    top, tables = [], []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            tables.append(f"\n[{f.name}]")
            for sf in dataclasses.fields(value):
                tables.append(f"{sf.name} = {_toml_value(clean(sf.name, getattr(value, sf.name)))}")
        else:
            top.append(f"{f.name} = {_toml_value(clean(f.name, value))}")
    return "# secrets and URL credentials removed\n" + "\n".join(top + tables) + "\n"


def _tail(path: Path, limit: int) -> str:
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - limit))
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    return text.split("\n", 1)[1] if size > limit and "\n" in text else text


def build_bundle(cfg: KioskConfig, now: dt.datetime,
                 extras: Mapping[str, str | bytes] | None = None) -> bytes:  # fmt: skip
    """The diagnostics zip of this terminal (see the module's docstring).

    :raises DiagnosticsError: the finished bundle still holds personal data, or is too big.
    """
    data_dir = Path(cfg.data_dir)
    members: dict[str, str | bytes] = {}
    members["versions.json"] = json.dumps(versions(), ensure_ascii=False, indent=1)
    members["config.toml"] = redacted_config(cfg)
    logs = (
        sorted((data_dir / LOG_DIR).glob(LOG_FILE + "*")) if (data_dir / LOG_DIR).is_dir() else []
    )
    for path in logs:
        if path.is_file():
            members[f"logs/{path.name}"] = privacy.scrub(_tail(path, LOG_BYTES))
    history = HealthHistory(data_dir / HISTORY_FILE).lines()
    members["health-history.jsonl"] = privacy.scrub("\n".join(history) + ("\n" if history else ""))
    selftest = data_dir / SELFTEST_FILE
    if selftest.is_file():
        members["selftest.json"] = privacy.scrub(selftest.read_text(encoding="utf-8"))
    for name, content in (extras or {}).items():
        members[name] = privacy.scrub(content) if isinstance(content, str) else content
    manifest = {"terminal_id": cfg.terminal.id, "service_point": cfg.terminal.service_point,
                "created_at": now.isoformat(), "members": sorted(members),
                "note": "no personal data: ID and phone numbers are removed from logs; "
                        "the outbox, its key and the terminal's credentials are never included"}  # fmt: skip
    members = {"manifest.json": json.dumps(manifest, ensure_ascii=False, indent=1), **members}
    buf = io.BytesIO()
    stamp = now.astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, content.encode("utf-8") if isinstance(content, str) else content)
    bundle = buf.getvalue()
    if len(bundle) > MAX_BUNDLE:
        raise DiagnosticsError(f"bundle of {len(bundle)} bytes is over {MAX_BUNDLE}", reason="size")
    found = privacy.scan_bundle(bundle)
    if found:
        raise DiagnosticsError("personal data in the bundle: " + "; ".join(map(str, found[:5])),
                               reason="personal")
    return bundle
