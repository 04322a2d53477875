"""More of the citizen's journeys in the real window, against the real emulators
and the real platform: the whole after-death bundle (with a material deferred
and signed for), the social-security card taken out mid-form, and a submission
made while the platform is down and delivered once when it is back."""

from __future__ import annotations

import pytest
from PIL import Image

from kiosk.i18n import translate
from tests.printer_samples import best_match
from tests.support.demo import demo, drawn_outside, run_scenario
from tests.support.vision import decode_qr, shows_text

pytestmark = pytest.mark.ui


def test_in_large_english_type_on_a_landscape_screen_nothing_is_drawn_over_its_neighbours(tmp_path):
    # the longest words in the largest type on the shortest screen: a box too small for
    # what it holds drew its top lines over the title (the life event's name over the
    # header on the questions, the capture's guidance over its title, the review's column,
    # the outcome's headline); every screen of the journey, as the demo shoots it
    demo("landscape", tmp_path, options=("--elderly", "--language", "en"))
    assert drawn_outside(tmp_path, "landscape") == {}


def test_the_whole_after_death_bundle_in_one_go_with_a_deferred_material(tmp_path):
    shots = run_scenario("after-death", tmp_path, orientation="landscape")
    # The citizen deferred the driving licence and signed the promise on the screen
    assert shows_text(
        shots["07b-materials-deferred-signed"], "请在下方签名，承诺于", [30]
    )
    # With the signature pad open the list shows under two rows: the foot of it says that
    # more lies below (as the long review does), and a page with nothing below does not
    more = translate("common.more_below")
    assert shows_text(shots["07b-materials-deferred-signed"], more, [21], bold=True)
    assert shows_text(shots["09-review"], more, [21], bold=True)
    assert not shows_text(shots["10-outcome"], more, [21], bold=True)
    # Every matter of the bundle accepted under one number
    assert shows_text(shots["10-outcome"], "已受理", [60], bold=True)
    assert shows_text(shots["10-outcome"], "机动车驾驶证注销（死亡）", [26])
    assert shows_text(shots["10-outcome"], translate("outcome.printed.accepted"), [32])
    # and the screen itself says what is still owed, and by when (should the paper fail)
    assert shows_text(shots["10-outcome"], "前补交：逝者机动车驾驶证", range(28, 34))
    assert shows_text(shots["10-outcome"], "领取方式：窗口领取", range(28, 34))
    receipt = Image.open(shots["receipt"])
    for line in ("火化证明开具", "死亡人员户口注销", "逝者机动车驾驶证", "安福县洲湖镇"):
        assert best_match(receipt, line) > 0.97, line  # the hall's address: where to bring it
    assert best_match(receipt, "容缺材料（请在期限前补交）", bold=True) > 0.97
    assert "/track/AF" in decode_qr(shots["receipt"])
    # The platform stored one submission, with the deferral and the signed promise
    [stored] = shots["report"]["stored_submissions"]
    assert stored["deferred"] == ["driving_licence"] and stored["signed"]
    assert {"cremation_cert", "hukou_cancel_death", "driving_licence_cancel"} <= set(
        stored["matters"]
    )


def test_taking_the_social_security_card_out_mid_form_ends_and_wipes_the_visit(tmp_path):
    shots = run_scenario("card-removed", tmp_path)
    assert shows_text(shots["form-typing"], "请核对并填写申请信息", [44], bold=True)
    # Back to the invitation for the next citizen
    assert shows_text(shots["wiped"], "请将身份证放在读卡区", [60], bold=True)
    report = shots["report"]
    assert report["session"] is False and report["journey"] is False
    # Nothing of the citizen is left on any screen: not the name, not what was typed
    assert report["name_left"] is False
    assert report["typed_left"] == []
    assert report["stored_submissions"] == []


def test_offline_submission_gets_a_pending_slip_and_is_delivered_once(tmp_path):
    shots = run_scenario("offline", tmp_path)
    # The platform was down: the citizen is told it was received, pending acceptance
    assert shows_text(shots["pending"], "已收件", [60], bold=True)
    # and the paper in hand is named for what it is: a pending slip, not a receipt
    assert shows_text(shots["pending"], translate("outcome.printed.pending"), [32])
    assert not shows_text(shots["pending"], "受理回执", [32])
    assert shows_text(shots["pending"], translate("outcome.scan_qr.pending"), [30])
    slip = Image.open(shots["pending-slip"])
    assert best_match(slip, "收件编号") > 0.97
    assert best_match(slip, "就业登记") > 0.97  # what was handed in
    report = shots["report"]
    link, _, code = decode_qr(shots["pending-slip"]).partition("?c=")
    assert link.endswith("/track/" + report["local_number"]) and len(code) == 12
    assert report["kind"] == "pending" and report["queued"] == 1
    # Back online, the outbox delivered it: one record, linked to the slip's number
    [stored] = report["stored_submissions"]
    assert stored["local_number"] == report["local_number"]
    assert report["linked"], "the slip's number was not linked to an acceptance number"
    # and the citizen could finish from the slip's screen without rating
    assert report["finished_unrated"] is True
    # Their call for staff while the platform was away said where help is instead: the desk,
    # or a number to phone (the 12345 hotline: the catalog gives this hall no number), in
    # large type as they had chosen; and it is gone once their visit is over
    assert report["called"] == translate("staff.call_failed_hotline")
    assert shows_text(shots["call-failed-elderly"], "请到服务台，或拨打 12345", range(32, 36), bold=True)
    # and the button they pressed says so under their finger, pointing up to the header
    assert shows_text(shots["call-failed-elderly"], translate("staff.button_failed"), range(34, 38), bold=True)
    assert report["notice_after_visit"] == ""
