"""The shipped systemd units verify, and the watchdog ping reaches a real notify socket."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from peripherals.sdnotify import Notifier

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("unit", ["govkiosk.service", "govkiosk-central.service"])
def test_the_unit_passes_systemd_analyze_verify(unit, tmp_path):
    # The units name the installed path; point them at this checkout's venv to verify here.
    text = (ROOT / "systemd" / unit).read_text().replace("/opt/govkiosk/.venv", str(ROOT / ".venv"))
    (tmp_path / unit).write_text(text)
    proc = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def settings(unit: str) -> dict[str, str]:
    """The unit's settings as systemd reads them (the last of a key wins), comments aside."""
    found = {}
    for line in (ROOT / "systemd" / unit).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def test_the_kiosk_unit_is_a_notify_service_with_a_watchdog_that_never_gives_up():
    unit = settings("govkiosk.service")
    assert unit["Type"] == "notify" and unit["WatchdogSec"] == "30"
    assert "graphical.target" in unit["After"]
    # restarted whatever the exit, with no start limit to leave it failed overnight
    assert unit["Restart"] == "always" and unit["StartLimitIntervalSec"] == "0"
    assert unit["MemoryMax"].endswith(("M", "G"))


def test_the_platform_unit_reads_its_office_token_from_a_private_file():
    unit = settings("govkiosk-central.service")
    assert "--host 0.0.0.0" in unit["ExecStart"]  # which the platform refuses without a token
    assert unit["EnvironmentFile"] == "-/etc/govkiosk/central.env"  # missing: the refusal says why
    assert unit["RestartPreventExitStatus"] == "2"  # a refusal is not retried every 3 s


def test_udev_rules_give_every_configured_device_a_stable_name():
    rules = (ROOT / "systemd" / "99-govkiosk.rules").read_text()
    example = (ROOT / "config" / "kiosk.example.toml").read_text()
    for name in ("kiosk-idcard", "kiosk-printer", "kiosk-scanner", "kiosk-doccam", "kiosk-facecam"):
        assert f'SYMLINK+="{name}"' in rules
        assert f"/dev/{name}" in example


def test_watchdog_pings_arrive_on_the_notify_socket(tmp_path):
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        n = Notifier(str(path))
        assert n.ready() and n.watchdog()
        assert server.recv(64) == b"READY=1"
        assert server.recv(64) == b"WATCHDOG=1"


def test_outside_systemd_notifying_does_nothing():
    assert Notifier("").watchdog() is False
