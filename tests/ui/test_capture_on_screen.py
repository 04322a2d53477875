"""A two-page material under the document camera (高拍仪), in the real window against
the camera emulator: the live picture with the page outlined, each page taken by
itself once it lies still (and only once), "retake last page", and "scan now"
over an empty desk refused with what to do."""

from __future__ import annotations

import pytest

from kiosk.i18n import translate
from tests.support.demo import run_scenario
from tests.support.vision import shows_text

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return run_scenario("capture", tmp_path_factory.mktemp("capture"))


def test_a_page_lying_still_is_taken_by_itself_once(shots):
    assert shots["report"]["first_page_once"], "the page left lying was taken again"
    assert shows_text(shots["capture-page-1"], "第 1 页已拍好", range(34, 40), bold=True)
    assert shows_text(shots["capture-page-1"], "已拍 1 页", range(28, 32))


def test_the_next_page_laid_down_is_taken_as_page_two(shots):
    assert shows_text(shots["capture-page-2"], "第 2 页已拍好", range(34, 40), bold=True)
    assert shows_text(shots["capture-page-2"], "已拍 2 页", range(28, 32))


def test_retake_last_page_drops_it(shots):
    assert shows_text(shots["capture-retake"], translate("capture.dropped"), range(34, 40), bold=True)
    assert shows_text(shots["capture-retake"], "已拍 1 页", range(28, 32))


def test_scan_now_over_an_empty_desk_says_what_to_do(shots):
    assert shows_text(shots["capture-no-page"], translate("document.no_page"), range(34, 40), bold=True)


def test_the_list_counts_the_pages_the_submission_will_carry(shots):
    assert shows_text(shots["capture-list"], "已拍摄 2 页", range(22, 26))
    assert shots["report"]["pages"] == 2
    [(code, scan)] = shots["report"]["scans"].items()
    assert scan.startswith("scan:2:"), scan


def test_a_camera_fault_is_told_calmly_and_trying_again_takes_nothing_twice(shots):
    assert shows_text(shots["capture-camera-fault"], translate("error.camera"), range(34, 40), bold=True)
    assert shows_text(shots["capture-camera-fault"], "再试一次", range(26, 34), bold=True)
    assert shots["report"]["pages_after_fault"] == 2


def test_a_household_register_asks_for_its_own_page_after_the_head_of_household_s(shots):
    # its first page taken: which page comes next, and how many of how many
    assert shots["report"]["paged"] == "hukou_book"
    assert shows_text(shots["capture-paged-1"], "第 1 页已拍好。接下来请拍：本人页", range(34, 40), bold=True)
    assert shows_text(shots["capture-paged-1"], "已拍 1/2 页", range(28, 32))
    # back on the list it is not ticked: it says what is still to scan, and offers to go on
    assert shots["report"]["paged_outstanding"] is True
    assert shows_text(shots["capture-list-page-wanted"], "已拍 1 页，还需拍：本人页", range(22, 26))
    assert shows_text(shots["capture-list-page-wanted"], translate("materials.scan_more"), range(26, 34), bold=True)


def test_once_both_pages_are_in_the_register_is_taken_and_no_third_sheet_is(shots):
    assert shows_text(shots["capture-paged-2"], translate("capture.taken_all", pages=2), range(34, 40), bold=True)
    report = shots["report"]
    assert report["paged_pages"] == 2, "a third sheet laid down was taken"
    assert report["take_now_offered"] is False
    assert report["paged_done"] is True
