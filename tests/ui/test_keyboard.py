"""The on-screen keyboard in a real window under Xvfb: a finger typing pinyin, a
Chinese character chosen from the candidate bar, an ID number on the keypad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from peripherals.supervisor import Xvfb
from tests.support.vision import is_blank, load_gray, text_score

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("keyboard_app.py")


@pytest.fixture(scope="module")
def typed(tmp_path_factory) -> dict:
    """Runs the keyboard window once; every test reads what it did."""
    out = tmp_path_factory.mktemp("keyboard")
    display = Xvfb(1080, 1920)
    display.start(out)
    try:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **display.env())
        proc = subprocess.run(
            [sys.executable, str(CHILD), str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        display.stop()
    assert proc.returncode == 0, (
        f"keyboard window failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bar_image(typed: dict):
    """The candidate bar cut out of the screenshot (Kivy's y runs up, the image's down)."""
    img = load_gray(typed["screenshot"])
    x, y, w, h = (int(v) for v in typed["bar"])
    top = img.shape[0] - (y + h)
    return img[max(top, 0) : top + h, x : x + w]


def test_typing_zhang_and_choosing_the_candidate_puts_it_in_the_field(typed):
    # Given the name field attached, When z-h-a-n-g-g ⌫ is tapped and 张 chosen
    # Then the field holds exactly 张 (the pinyin letters never reach it)
    assert "张" in typed["candidates"]
    assert typed["name_after_zhang"] == "张"


def test_backspace_removes_the_last_pinyin_letter_before_candidates_are_offered(typed):
    assert typed["buffer_shown"] == "zhang"


def test_digits_typed_on_the_keypad_fill_the_id_field_and_backspace_deletes(typed):
    # 3 6 0 9 ⌫ 8 X on the digit keypad
    assert typed["id"] == "3608X"


def test_a_phone_number_s_pad_has_no_x(typed):
    # the same pad for a phone number: the X neither shown nor typed, the digits still are
    assert typed["phone_pad"] == [True, "3608X7"]


def test_letters_are_capitals_space_takes_the_first_candidate_and_pages_turn(typed):
    # Given 张 in the field: B in letter mode, then "anfu" + space, then "shi", next page, first
    page1, page2 = typed["shi_pages"]
    assert typed["first_for_anfu"] == "安福"
    assert page1 and page2 and not set(page1) & set(page2)
    assert typed["name"] == "张B安福" + page2[0]


def test_clear_empties_the_field_and_done_is_reported(typed):
    assert typed["name_after_clear"] == ""
    assert typed["done"] == 1


def test_the_screenshot_shows_the_candidate_bar_with_zhang_and_the_typed_pinyin(typed):
    assert not is_blank(typed["screenshot"])
    bar = bar_image(typed)
    assert text_score(bar, "张", range(36, 46, 2), bold=True) >= 0.7, (
        "张 not drawn in the candidate bar"
    )
    assert text_score(bar, "zhang", range(26, 34, 2), bold=True) >= 0.7, "typed pinyin not shown"
    assert text_score(bar, "伟", range(36, 46, 2), bold=True) < 0.7  # not a candidate for zhang


def test_every_key_tap_reports_activity_once(typed):
    expected = (
        [f"key:{k}" for k in "zhangg"]
        + ["key:backspace", "candidate:0", "mode:digits"]
        + [f"key:{k}" for k in ("3", "6", "0", "9", "backspace", "8", "x", "x", "7")]
        + ["mode:letters", "key:b", "mode:pinyin", "key:a", "key:n", "key:f", "key:u", "key:space"]
        + ["key:s", "key:h", "key:i", "candidates:next", "candidate:0", "key:clear", "key:done"]
    )
    assert typed["tapped"] == expected
    assert typed["activity"] == expected


def test_keys_are_big_enough_for_elderly_fingers_and_grow_in_elderly_mode(typed):
    # (the window runs at density 1, so pixels are dp)
    assert min(typed["key_heights"]) >= 64
    assert min(typed["digit_key_heights"]) >= 64
    assert min(typed["elderly_digit_key_heights"]) >= 1.25 * min(typed["digit_key_heights"])
