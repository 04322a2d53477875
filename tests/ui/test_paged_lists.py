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
    # the list turns to the next page (an older citizen submits what they have read)
    assert len(pages) > 1
    assert [p["offers"] for p in pages] == [["next_page"]] * (len(pages) - 1) + [["submit"]]
    assert shows_text(got["screenshot"], "下一页，继续核对", range(30, 40), bold=True)
