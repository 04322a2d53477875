"""A value read from the card that the form does not take says where to go, in a real window."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.i18n import translate
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("card_value_refused_app.py")


def test_a_card_value_the_form_does_not_take_says_where_to_go_not_fix_the_red(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    # the form stays (nothing is submitted), and says to go to a window or call staff
    assert got["screen"] == "form"
    assert got["said"] == {"zh": translate("form.card_value_refused", "zh"),
                           "en": translate("form.card_value_refused", "en")}  # fmt: skip
