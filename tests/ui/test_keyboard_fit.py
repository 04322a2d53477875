"""The form's keyboard in large type on a landscape screen, in a real window under Xvfb:
it fits the screen, beside the whole form, clear of its title and of the field typed in
(a large-type keyboard is taller than the fields' room beside it: it rose over the title)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("keyboard_fit_app.py")


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_the_large_type_keyboard_fits_beside_the_form_in_landscape(tmp_path):
    got = run_child(CHILD, tmp_path, (1920, 1080))
    sx, sy, sw, sh = got["screen"]
    for mode in ("pinyin", "digits"):
        kx, ky, kw, kh = keyboard = got[mode]["keyboard"]
        # within the screen's area (under the header, over the bar of buttons)
        assert sy - 1 <= ky and ky + kh <= sy + sh + 1, (mode, keyboard, got["screen"])
        # clear of the title and of the field being typed into
        assert not overlaps(keyboard, got["title"]), (mode, keyboard, got["title"])
        assert not overlaps(keyboard, got[mode]["field"]), (mode, keyboard, got[mode]["field"])
        # its keys no smaller than a finger: rows of 64 dp and more (the digits' 4 rows and
        # the action row, pinyin's bar, candidates and 5 rows)
        assert kh >= (5 * 64 if mode == "digits" else 7 * 64), (mode, kh)


def test_the_words_on_the_large_type_keyboard_s_keys_stay_on_one_line_within_them(tmp_path):
    # in landscape the large-type keyboard's keys are narrow: "字母" and "清空" broke over
    # two lines and out of their keys; now the word's type is made smaller to fit
    got = run_child(CHILD, tmp_path, (1920, 1080))
    for language in ("zh", "en"):
        keys = got["words"][language]
        assert len(keys) == 6, keys  # 字母, 数字, 空格, 清空, 完成 and 删除
        for k in keys:
            (width, height), (tw, th) = k["key"], k["texture"]
            assert th < 1.8 * k["font_size"], k  # one line
            assert tw <= width and th <= height, k  # within the key
            assert k["font_size"] >= 20, k  # still large type
