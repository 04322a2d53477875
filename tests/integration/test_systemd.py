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


def test_the_kiosk_unit_is_a_notify_service_with_a_watchdog_and_restarts():
    text = (ROOT / "systemd" / "govkiosk.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure", "After=graphical.target"):
        assert line in text


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
