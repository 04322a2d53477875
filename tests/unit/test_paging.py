"""Cutting a list into pages by what fits (large type): every row on a page once and in
order, no page holding more than its room unless one row alone is taller, and a heading
never left at the foot of a page without what it heads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from screens.paging import pages_by_height, pages_of

ROWS = st.lists(st.tuples(st.booleans(), st.floats(10, 400)), max_size=40)  # (heading?, height)


def _height(page, gap):
    return sum(h for _, h in page) + gap * max(0, len(page) - 1)


@given(ROWS, st.floats(50, 900), st.sampled_from([0.0, 8.0, 12.0]))
def test_pages_by_height_keep_every_row_in_order_and_fit_their_room(rows, room, gap):
    items = list(enumerate(rows))  # (index, (heading, height))
    pages = pages_by_height(items, [r[1] for r in rows], room, gap, lambda i: i[1][0])
    assert [i for page in pages for i in page] == items
    assert all(pages) if items else pages == [[]]
    for n, page in enumerate(pages):
        used = _height([r for _, r in page], gap)
        # too tall for one page only where what is on it cannot be split: a heading or
        # headings and the one row they head, or that row alone
        if used > room:
            assert sum(not heading for _, (heading, _h) in page) <= 1, page
        if n < len(pages) - 1:  # (not even alone: a page of a heading and nothing it heads)
            assert not page[-1][1][0], "a heading ended a page, apart from what it heads"


def test_a_heading_moves_on_with_the_lines_it_heads():
    rows = ["a", "b", "H", "c", "d"]
    heights = [100, 100, 50, 100, 100]
    pages = pages_by_height(rows, heights, 260, 0, lambda r: r == "H")
    assert pages == [["a", "b"], ["H", "c", "d"]]


def test_all_on_one_page_when_it_fits_and_a_tall_row_alone():
    assert pages_by_height(["a", "b"], [100, 100], 500) == [["a", "b"]]
    assert pages_by_height(["a", "tall", "b"], [100, 900, 100], 500) == [["a"], ["tall"], ["b"]]
    assert pages_by_height([], [], 500) == [[]]


def test_a_heading_stays_with_a_row_too_tall_to_share_a_page():
    # the banks' heading and their list, taller than the page in landscape large type:
    # one page, scrolled, not the heading alone on a page of its own
    pages = pages_by_height(["a", "H", "banks"], [480, 50, 600], 500, 0, lambda r: r == "H")
    assert pages == [["a"], ["H", "banks"]]


def test_pages_of_count_keeps_headings_with_their_lines():
    assert pages_of(list("abcde"), 0) == [list("abcde")]
    assert pages_of(["a", "H", "b", "c"], 2, lambda r: r == "H") == [["a"], ["H", "b"], ["c"]]


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 12))
def test_pages_of_count_hold_every_item_in_order_and_at_most_their_count(headings, per_page):
    items = list(enumerate(headings))  # (index, heading?)
    pages = pages_of(items, per_page, lambda i: i[1])
    assert [i for page in pages for i in page] == items
    for page in pages:
        # more only where headings carried over fill a page with what they head
        assert len(page) <= per_page or sum(not h for _, h in page) <= 1, page
