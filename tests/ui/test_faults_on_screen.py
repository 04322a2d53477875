"""Faults a citizen can meet, in the real window against the real emulators:
paper running out mid-receipt, and walking away (the inactivity wipe)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from kiosk.i18n import translate
from tests.printer_samples import best_match
from tests.support.demo import run_scenario
from tests.support.vision import decode_qr, shows_text

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def paper_out(tmp_path_factory) -> dict:
    return run_scenario("paper-out", tmp_path_factory.mktemp("paper-out"))


def test_paper_out_mid_receipt_is_explained_and_the_receipt_reprints_in_full(paper_out):
    shots = paper_out
    # Given paper ran out in the middle of the acceptance receipt,
    # the citizen is told so, and the receipt's QR is on the screen meanwhile
    assert shows_text(shots["paper-out"], "打印纸用完了", [32])
    assert "/track/AF" in decode_qr(shots["paper-out"])
    # When paper is back, the whole receipt prints: its last lines are there
    receipt = Image.open(shots["reprinted-receipt"])
    assert best_match(receipt, "扫码查询办理进度") > 0.97
    assert best_match(receipt, "打印时间") > 0.97
    assert "/track/AF" in decode_qr(shots["reprinted-receipt"])
    # And rating is voluntary: opened, then skipped, the visit ends and is wiped all the same
    assert shots["report"]["skipped_rating"] == {"rated": False, "wiped": True}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_outcome_follows_a_change_of_language_at_once(paper_out):
    # Given the outcome on screen, with the printer's paper out, then with the receipt printed,
    # when the citizen switches to English, every text on it is English at once
    said = paper_out["report"]
    for when, news in (("paper-out", "error.paper_out"), ("reprinted", "outcome.printed.accepted")):
        headline, detail, matters, told = said[when]["en"]
        assert headline == translate("outcome.accepted", "en"), when
        assert told == translate(news, "en"), when
        # the acceptance number and the promised date, a line each, the date in words
        number, date = detail.split("\n")[:2]
        assert number.startswith("Acceptance number AF"), detail
        # (one word for the deadline on the review, this screen and the receipt: promised)
        assert re.fullmatch(r"Promised by \d{1,2} [A-Z][a-z]+ 20\d\d", date), detail
        assert matters and not any(has_chinese(t) for t in said[when]["en"]), said[when]["en"]
        # and switched back, the same texts in Chinese as before
        assert said[when]["zh"][0] == "已受理" and said[when]["zh"][3] == translate(news)
        number_zh, date_zh = said[when]["zh"][1].split("\n")[:2]
        assert number_zh == "受理编号 " + number.removeprefix("Acceptance number "), number_zh
        assert re.fullmatch(r"承诺办结日期 20\d\d年\d{1,2}月\d{1,2}日", date_zh), date_zh
    # as the citizen sees it
    shot = paper_out["paper-out-en"]
    assert shows_text(shot, "Accepted", [60], bold=True)
    assert shows_text(shot, date, [32])
    assert shows_text(shot, "The printer is out of paper.", [32])
    assert shows_text(shot, "Employment registration", [26])
    assert not shows_text(shot, "已受理", [60], bold=True)
    assert shows_text(paper_out["reprinted-en"], "Your acceptance receipt is printed", [32])
    assert shows_text(paper_out["paper-out"], date_zh, [32])


def test_the_hall_notice_shows_in_english_when_the_citizen_chooses_english(paper_out):
    # the dashboard's notice "夜间办事请走东侧… | At night, use…": the English part only
    shot = paper_out["attract-en"]
    assert shows_text(shot, "At night, use the 24-hour", [28])
    assert not shows_text(shot, "夜间办事请走东侧24小时自助区", range(26, 30))


def test_the_header_names_the_service_point_in_the_citizen_s_language(paper_out):
    # Given the portrait header in Chinese: the title and the point's Chinese name
    assert shows_text(paper_out["paper-out"], "24小时政务自助服务", [40], bold=True)
    assert shows_text(paper_out["paper-out"], "洲湖镇便民服务中心", [24])
    # When the citizen switches to English, the whole title (in the largest type that
    # leaves the point's name room beside it) and the point's English name
    shot = paper_out["paper-out-en"]
    assert shows_text(shot, "24-hour Government Self-Service", range(34, 41), bold=True)
    assert shows_text(shot, "Zhouhu Town Service Centre", [24])
    assert not shows_text(shot, "洲湖镇便民服务中心", [24])


def test_walking_away_brings_a_countdown_then_wipes_the_session(tmp_path):
    shots = run_scenario("timeout", tmp_path)
    assert shows_text(shots["still-there"], "您还在吗？", [56], bold=True)
    assert shows_text(shots["still-there"], "继续办理", [44], bold=True)
    # Continuing keeps the citizen where they were
    assert not shows_text(shots["continued"], "您还在吗？", [56], bold=True)
    assert shows_text(shots["continued"], "医院是否已签发", [48], bold=True)
    # Left alone, the visit is wiped back to the attract screen
    assert shows_text(shots["wiped"], "请将身份证放在读卡区", [60], bold=True)
    # And a card laid while the countdown asks (its citizen went to fetch it for 我的办件)
    # takes the question away and shows their applications; no question is left over it
    report = shots["report"]
    assert report["asked_gone"] and report["on"] == "progress" and report["questions_up"] <= 1
    assert not shows_text(shots["card-brought"], "您还在吗？", [56], bold=True)
