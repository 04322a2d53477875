"""The outcome of a long bundle in large type, in a real window under Xvfb: on a landscape
screen the headline (已受理) stays on the screen, under the header; on a portrait one the
number, date and matters have the room, the code only its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("outcome_fit_app.py")


def test_a_long_bundle_s_outcome_in_large_type_keeps_its_headline_on_the_screen(tmp_path):
    got = run_child(CHILD, tmp_path, (1920, 1080))
    x, y, w, h = got["headline"]
    sx, sy, sw, sh = got["screen"]  # the screen's area, under the header
    assert got["matters"] == 4
    # the headline lies whole within the screen's area (it was pushed up under the header)
    assert sy <= y and y + h <= sy + sh, (got["headline"], got["screen"])
    assert shows_text(got["shot"], "已受理", range(70, 84), bold=True)
    # and the number, the date and the bundle's four matters show whole, though the receipt
    # did not print (its message and button beside them): they showed two lines and a half
    # over a "more" strip (the column's spacing, tighter in landscape's large type)
    shown, needed = got["details"]
    assert shown >= needed - 1, got["details"]
    size = round(got["matters_font"])
    assert shows_text(got["shot"], got["first_matter"], [size - 1, size, size + 1])


def test_in_portrait_large_type_the_matters_have_the_room_and_the_code_only_its_own(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    shown, needed = got["details"]
    # the number, the date and all four matters show whole, not scrolled in a strip (the
    # code's column took half the height, most of it empty)
    assert shown >= needed - 1, got["details"]
    x, y, w, h = got["qr"]
    assert w > 0 and y > 0  # and the code is on the screen, under them
    assert shows_text(got["shot"], "已受理", range(70, 84), bold=True)
