"""Faults a citizen can meet, in the real window against the real emulators:
paper running out mid-receipt, and walking away (the inactivity wipe)."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.printer_samples import best_match
from tests.support.demo import run_scenario
from tests.support.vision import decode_qr, shows_text

pytestmark = pytest.mark.ui


def test_paper_out_mid_receipt_is_explained_and_the_receipt_reprints_in_full(tmp_path):
    shots = run_scenario("paper-out", tmp_path)
    # Given paper ran out in the middle of the acceptance receipt,
    # the citizen is told so, and the receipt's QR is on the screen meanwhile
    assert shows_text(shots["paper-out"], "打印纸用完了", [32])
    assert "/track/YF" in decode_qr(shots["paper-out"])
    # When paper is back, the whole receipt prints: its last lines are there
    receipt = Image.open(shots["reprinted-receipt"])
    assert best_match(receipt, "扫码查询办理进度") > 0.97
    assert best_match(receipt, "打印时间") > 0.97
    assert "/track/YF" in decode_qr(shots["reprinted-receipt"])


def test_walking_away_brings_a_countdown_then_wipes_the_session(tmp_path):
    shots = run_scenario("timeout", tmp_path)
    assert shows_text(shots["still-there"], "您还在吗？", [56], bold=True)
    assert shows_text(shots["still-there"], "继续办理", [44], bold=True)
    # Continuing keeps the citizen where they were
    assert not shows_text(shots["continued"], "您还在吗？", [56], bold=True)
    assert shows_text(shots["continued"], "医院是否已签发", [48], bold=True)
    # Left alone, the visit is wiped back to the attract screen
    assert shows_text(shots["wiped"], "请将身份证放在读卡区", [60], bold=True)
