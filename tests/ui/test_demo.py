"""The main job end to end: `kiosk demo` in a real window under Xvfb, against
every emulator and the local central server, checked as a person would look."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from PIL import Image

from kiosk.i18n import translate
from peripherals.idcard.emulator import sample_cards
from tests.printer_samples import best_match
from tests.support.demo import demo as kiosk_demo
from tests.support.demo import drawn_outside
from tests.support.vision import decode_qr, is_blank, shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]


def still_running(pid_file: Path) -> set[str]:
    """The daemons the demo says it started (Xvfb, pcscd, central) that still run."""
    left = set()
    for line in pid_file.read_text().splitlines():
        name, pid = line.split()
        if Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text():
            left.add(f"{name}:{pid}")
    return left


def run_demo(orientation: str, out: Path) -> dict[str, Path]:
    proc = kiosk_demo(orientation, out, timeout=240)
    paths = [Path(line) for line in proc.stdout.splitlines() if line.endswith(".png")]
    shots = {p.stem.removeprefix(f"{orientation}-"): p for p in paths}
    pid_file = out / f"{orientation}-pids.txt"
    assert pid_file.read_text().strip(), "the demo reported no daemons"
    shots["left running"] = still_running(pid_file)
    shots["drawn outside"] = drawn_outside(out, orientation)
    return shots


# Portrait here; the whole journey in landscape is tests/ui/test_journeys.py's
# after-death walkthrough (`kiosk demo` itself still runs both orientations).
@pytest.fixture(scope="module", params=["portrait"])
def demo(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    return run_demo(request.param, out)


STEPS = {"01-attract", "02-home-greeting", "03-social-card-read", "04-question", "05-form",
         "06-form-filled", "07-materials", "08a-capture-looking", "08b-capture-taken",
         "08-materials-scanned", "09-review", "09b-form-at-section", "10-outcome",
         "11-rate", "12-end", "13-attract-again", "receipt"}


def test_every_step_writes_a_screenshot_that_is_not_blank(demo):
    assert set(demo) >= STEPS, f"missing: {STEPS - set(demo)}"
    for name in STEPS:
        assert not is_blank(demo[name]), name


def test_no_screen_draws_anything_over_its_neighbours(demo):
    assert demo["drawn outside"] == {}


def test_attract_screen_invites_the_citizen_to_lay_down_an_id_card(demo):
    assert shows_text(demo["01-attract"], "请将身份证放在读卡区", [60], bold=True)


def test_home_screen_greets_the_citizen_by_the_name_read_over_the_serial_pty(demo):
    name = sample_cards()[0].name
    assert shows_text(demo["02-home-greeting"], f"{name}，您好", [52], bold=True)
    assert not shows_text(demo["01-attract"], f"{name}，您好", [52], bold=True)
    # each life event's tile has a picture, not a character (婴, 学: nothing in English)
    assert not shows_text(demo["02-home-greeting"], "婴", range(40, 70), bold=True)


def test_social_security_card_read_through_pcscd_is_confirmed_on_screen(demo):
    assert shows_text(demo["03-social-card-read"], "社保卡已读取", [30])


def test_the_form_shows_identity_fields_as_already_read_from_the_card(demo):
    assert shows_text(demo["05-form"], "已从证件读取", [30])
    # carried over to the review, masked as the card gave it (whoever stands behind the
    # citizen does not read it); the region and the last four, as on the receipts
    # (the stars and the last four: the whole number there scores under half of this)
    id_number = sample_cards()[0].id_number
    assert shows_text(demo["09-review"], "*" * 8 + id_number[-4:], range(22, 30)), \
        "the ID number not carried over, or shown whole"


def test_changing_a_section_on_the_review_opens_the_form_at_that_section(demo):
    # The birth form's second section is the spouse's; its first, the applicant's
    shot = demo["09b-form-at-section"]
    assert shows_text(shot, "配偶信息", range(26, 40), bold=True)
    assert not shows_text(shot, "申请人信息", range(26, 40), bold=True)
    # and its button goes back to the review (the walkthrough then submits from there),
    # not through the materials, all scanned already, again
    assert shows_text(shot, translate("form.back_to_review"), range(28, 34), bold=True)


def test_the_document_camera_page_is_outlined_live_then_taken_by_itself(demo):
    # the live picture from the document camera, the page outlined in green (lying still)
    looking = cv2.imread(str(demo["08a-capture-looking"]))
    b, g, r = (looking[..., i].astype(int) for i in range(3))
    outline = (g > 150) & (r < 90) & (b < 130)
    assert outline.sum() > 3000, "no green page outline on the live picture"
    assert shows_text(demo["08a-capture-looking"], "已找到材料", range(34, 40), bold=True)
    assert shows_text(demo["08a-capture-looking"], "已拍 0 页", range(28, 32))
    # nobody tapped "scan now": the page was taken because it held still
    assert shows_text(demo["08b-capture-taken"], "已拍 1 页", range(28, 32))
    assert shows_text(demo["08b-capture-taken"], "第 1 页已拍好", range(34, 40), bold=True)


def test_the_application_is_accepted_with_a_number(demo):
    assert shows_text(demo["10-outcome"], "已受理", [60], bold=True)


def test_printed_acceptance_receipt_has_readable_chinese_and_a_qr_that_tracks_it(demo):
    receipt = demo["receipt"]
    assert shows_text(receipt, "受理回执", range(44, 52, 2), bold=True), "title not legible"
    assert best_match(Image.open(receipt), "洲湖镇便民服务中心") > 0.97, "accepting point missing"
    tracked = decode_qr(receipt)
    assert "/track/AF" in tracked, tracked


def test_after_the_session_ends_the_attract_screen_shows_no_name(demo):
    name = sample_cards()[0].name
    assert shows_text(demo["12-end"], "请取走您的身份证、社保卡和回执", [60], bold=True)
    assert shows_text(demo["13-attract-again"], "请将身份证放在读卡区", [60], bold=True)
    assert not shows_text(demo["13-attract-again"], name, [52], bold=True)


def test_demo_stops_every_daemon_it_started(demo):
    assert demo["left running"] == set()
