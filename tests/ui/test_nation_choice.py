"""A newborn's ethnic group on the form, in a real window under Xvfb: the likely few and
更多选项… rather than 58 buttons, or a box to type 汉族 into on a pinyin keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("nation_choice_app.py")


def test_a_long_choice_list_offers_the_likely_few_then_the_whole_list_on_a_touch(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    # Given the birth form: 汉族 (the list's first, and the parent's own, from the card), and more
    assert got["first"] == ["汉族", "more:newborn_nation"]
    assert shows_text(got["shot_first"], "更多选项…", range(26, 34), bold=True)
    # When the citizen touches 更多选项…, every group is offered
    assert len(got["all"]) == 58 and got["all"][:3] == ["汉族", "蒙古族", "回族"]
    # Then a group chosen from it is kept, and the list folds again round it
    assert got["chosen"] == "藏族"
    assert got["after"] == ["汉族", "藏族", "more:newborn_nation"]
    assert shows_text(got["shot_after"], "✓ 藏族", range(26, 34), bold=True)
    # and in English it reads as the group's English name
    assert shows_text(got["shot_english"], "✓ Tibetan", range(26, 34), bold=True)
