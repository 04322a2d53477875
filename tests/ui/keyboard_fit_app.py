"""The form's keyboard in large type on a landscape screen, in a real window: each of its
layouts (pinyin, digits) lies within the screen, clear of the form's title and of the field
being typed. Run by tests/ui/test_keyboard_fit.py in its own process:
``python tests/ui/keyboard_fit_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: the rectangles (window pixels) and a screenshot a layout.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    from kiosk.cli import DEMO_ANSWERS
    from screens.walkthrough import until
    from tests.support.window_child import applying, attract, rect

    w = await attract(app, out, elderly=True)
    form = await applying(app, "birth", DEMO_ANSWERS, "form")
    await until(lambda: form.keyboard is not None and any(i.focus for i in form.inputs.values()),
                10, "the keyboard in the first field")  # fmt: skip
    field = next(i for i in form.inputs.values() if i.focus)
    got = {"screen": rect(form), "title": rect(form.ids.title)}
    for mode in ("pinyin", "digits"):
        form.keyboard.modes, form.keyboard.mode = [mode], mode
        await w.drawn(at_least=0.3)
        got[mode] = {"keyboard": rect(form.keyboard), "field": rect(field),
                     "shot": str(await w.screenshot(f"keyboard-{mode}"))}  # fmt: skip
    # the keys with words on them (拼音/字母/数字, 空格, 清空, 完成, 删除), in both languages:
    # each word on one line within its key
    got["words"] = {}
    for language in ("zh", "en"):
        if app.language != language:
            app.toggle_language()
            await w.drawn(at_least=0.3)
        form.keyboard.modes, form.keyboard.mode = ["pinyin", "letters", "digits"], "pinyin"
        await w.drawn(at_least=0.3)
        keys = [k for k in form.keyboard.walk(restrict=True)
                if getattr(k, "action", "").startswith(WORD_ACTIONS)]
        got["words"][language] = [
            {"text": k.text, "key": [k.width, k.height], "texture": list(k.texture_size),
             "font_size": k.font_size} for k in keys]  # fmt: skip
        got["words"][f"shot_{language}"] = str(await w.screenshot(f"keyboard-words-{language}"))
    return got


WORD_ACTIONS = ("mode:", "key:space", "key:clear", "key:done", "key:backspace")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
