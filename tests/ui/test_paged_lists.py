"""Large type shows the materials list and the review of the application a page at a
time: every row of a page whole, none cut at the page's foot (in landscape the list has
room for fewer rows than in portrait), every row on some page, and no more pages than
the list's height needs. A real window under Xvfb, each case in its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("paged_list_app.py")
SIZES = pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])


@SIZES
def test_each_page_of_materials_in_large_type_shows_its_rows_whole(tmp_path, size):
    got = run_child(CHILD, tmp_path, size, "materials")
    pages = got["pages"]
    assert all(p["rows"] >= 1 and p["whole"] == p["rows"] for p in pages), pages
    assert sum(p["rows"] for p in pages) >= got["materials"]  # none left off a page
    assert shows_text(got["screenshot"], "需要提交的材料（一次告知）", [57], bold=True)


@SIZES
def test_each_page_of_the_review_in_large_type_shows_its_lines_whole(tmp_path, size):
    got = run_child(CHILD, tmp_path, size, "review")
    pages = got["pages"]
    # a double tap on the page before the last does not submit the last page unread (the
    # button under the list turns the pages, then submits: see below)
    # (the button greyed meanwhile: the citizen sees why the tap did nothing)
    assert got["double_tap"] == {"still_on": "review", "busy": False, "tried": False,
                                 "greyed": True}
    assert all(p["rows"] >= 1 and p["whole"] == p["rows"] for p in pages), pages
    assert sum(p["rows"] for p in pages) == got["rows"]  # every line on a page
    # pages as full as the list's height allows: the birth bundle's review (about thirty
    # lines) took nine pages of four lines in landscape
    assert len(pages) <= (4 if size[0] < size[1] else 6), pages
    assert shows_text(got["screenshot"], "请核对您的申请", [57], bold=True)
    # and Submit is offered only once every page has been shown: before, the button under
    # the list turns to the next page (an older citizen submits what they have read), and
    # it is the one way on: no pager's "下一页" beside "下一页，继续核对"
    assert len(pages) > 1
    assert [p["offers"] for p in pages] == [["next_page"]] * (len(pages) - 1) + [["submit"]]
    assert shows_text(got["screenshot"], "下一页，继续核对", range(30, 40), bold=True)


FORM_CHILD = Path(__file__).with_name("paged_form_app.py")


@SIZES
def test_the_form_in_large_type_is_shown_a_page_at_a_time_and_brings_each_field(tmp_path, size):
    got = run_child(FORM_CHILD, tmp_path, size)
    pages = got["pages"]
    # fewer items a screen: more than one page, each shown whole with the keyboard shut
    # (but a field taller than the list, alone on its page with its heading and scrolled:
    # the banks in landscape), none ending with a group's heading (it goes with its field)
    assert len(pages) > 1, pages
    assert all(p["rows"] >= 1 and p["whole"] == p["rows"] or p["taller_than_the_list"]
               and len(p["fields"]) == 1 for p in pages), pages  # fmt: skip
    assert not any(p["ends_with_heading"] for p in pages), pages
    # every field the form asks for is on some page, once
    fields = [f for p in pages for f in p["fields"]]
    assert len(fields) == len(set(fields)) and got["to_fill"] in fields
    # most pages hold two fields or more, in landscape too (the page buttons under the
    # fields there left room for one: the birth bundle's 15 fields took 15 pages)
    assert len(pages) <= 0.6 * len(fields), [p["fields"] for p in pages]
    # the pages stay the same while the keyboard shows (the page scrolls in the room left)
    assert got["pages_open"] == got["pages_shut"] == len(pages)
    # the cursor waits in the first field to fill, on its page
    assert got["first_focused"] == got["to_fill"] and got["first_in_view"]
    # "完成" on the last field of a page: the next page, its field focused and in view
    brought = got["brought"]
    assert brought == {"page": brought["page_of_next"], "page_of_next": brought["page_of_next"],
                       "focused": True, "in_view": True}, brought  # fmt: skip
    # the citizen turning the page puts the keyboard away with the field left behind
    assert got["turned"] == {"keyboard": False, "focused": None}
    # and so does "下一步" with fields still to fill, on its way to the first problem's page
    assert got["done_with_problems"] == {"keyboard": False, "focused": None}
    # in normal type, the whole form on one scrolled page, no pager
    assert got["normal"] == {"pages": 1, "pager_room": 0}
    assert shows_text(got["screenshot"], "请核对并填写申请信息", [57], bold=True)


@SIZES
def test_the_form_in_large_type_opens_on_the_page_of_the_first_field_to_fill(tmp_path, size):
    # the after-death form in landscape opened on its first page (the applicant, read from
    # the card) with the keypad up for the phone number, two pages on: its pages were cut
    # before the form was measured, and nothing turned to the field the cursor waited in
    got = run_child(FORM_CHILD, tmp_path, size, "after_death")
    assert got["first_focused"] == got["to_fill"] and got["first_in_view"], got
