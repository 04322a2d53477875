"""The main job end to end: `kiosk demo` in a real window under Xvfb, against
every emulator and the local central server, checked as a person would look."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from peripherals.idcard.emulator import sample_cards
from tests.support.vision import decode_qr, is_blank, shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]


def daemons() -> set[str]:
    """Process ids of the daemons the demo starts (Xvfb, pcscd, central)."""
    found = set()
    for pattern in ("Xvfb", "pcscd", "central.cli serve"):
        out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
        found |= {f"{pattern}:{pid}" for pid in out.split()}
    return found


def run_demo(orientation: str, out: Path) -> dict[str, Path]:
    before = daemons()
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # the demo starts its own Xvfb
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--orientation", orientation, "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, f"demo failed:\n{proc.stdout}\n{proc.stderr}"
    paths = [Path(line) for line in proc.stdout.splitlines() if line.endswith(".png")]
    shots = {p.stem.removeprefix(f"{orientation}-"): p for p in paths}
    shots["left running"] = daemons() - before
    return shots


@pytest.fixture(scope="module", params=["portrait", "landscape"])
def demo(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    return run_demo(request.param, out)


def test_every_step_writes_a_screenshot_that_is_not_blank(demo):
    expected = {"01-attract", "02-home-greeting", "03-social-card-read", "04-receipt-printed",
                "05-ended", "receipt"}
    assert expected <= set(demo), f"missing: {expected - set(demo)}"
    for name, path in demo.items():
        if name == "left running":
            continue
        assert path.exists() and not is_blank(path), name


def test_attract_screen_invites_the_citizen_to_lay_down_an_id_card(demo):
    assert shows_text(demo["01-attract"], "请将身份证放在读卡区", [60], bold=True)


def test_home_screen_greets_the_citizen_by_the_name_read_over_the_serial_pty(demo):
    name = sample_cards()[0].name
    assert shows_text(demo["02-home-greeting"], f"{name}，您好", [56], bold=True)
    assert not shows_text(demo["01-attract"], f"{name}，您好", [56], bold=True)


def test_social_security_card_read_through_pcscd_is_confirmed_on_screen(demo):
    assert shows_text(demo["03-social-card-read"], "社保卡已读取", [32])


def test_printed_receipt_has_readable_chinese_and_a_qr_that_scans(demo):
    receipt = demo["receipt"]
    assert shows_text(receipt, "自助终端测试回执", range(40, 52, 2), bold=True), "title not legible"
    assert "/track/" in decode_qr(receipt)


def test_after_the_session_ends_the_attract_screen_shows_no_name(demo):
    name = sample_cards()[0].name
    assert shows_text(demo["05-ended"], "请将身份证放在读卡区", [60], bold=True)
    assert not shows_text(demo["05-ended"], name, [56], bold=True)


def test_demo_stops_every_daemon_it_started(demo):
    assert demo["left running"] == set()
