"""The outcome of a long bundle, in large type on a landscape screen, in a real window
under Xvfb: the headline (已受理) is on the screen, under the header."""

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
