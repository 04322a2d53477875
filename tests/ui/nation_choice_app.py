"""A long choice list on the form in a real window: a newborn's ethnic group, one of 58.
The form offers the likely few (汉族, the parent's own from the card) and 更多选项…; a
touch on that opens the whole list, a choice from it folds the list again. Run by
tests/ui/test_nation_choice.py in its own process (Kivy makes one window per process):
``python tests/ui/nation_choice_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: the nation buttons shown at each step, what the form holds, and
screenshots.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELD = "newborn_nation"


def offered(app) -> list[str]:
    """The buttons of the field, as their actions name them (choice:…:VALUE, more:…)."""
    from screens.touch import walk

    # (Kivy keeps a layout's children last-added first: reversed, they read as on screen)
    actions = [getattr(w, "action", "") for w in walk(app.screens.get_screen("form").rows[FIELD])][::-1]
    return [a.rsplit(":", 1)[-1] if a.startswith("choice:") else a for a in actions
            if a.startswith((f"choice:{FIELD}:", f"more:{FIELD}"))]  # fmt: skip


async def script(app, out: Path) -> dict:
    from kiosk.cli import DEMO_ANSWERS
    from tests.support.window_child import applying, attract

    w = await attract(app, out)
    screen = await applying(app, "birth", DEMO_ANSWERS, "form")
    terminal = app.terminal

    await w.drawn(at_least=0.5)  # the form opens with the keyboard up in its first field:
    for field in screen.inputs.values():  # put away, as a citizen's "done" does
        field.focus = False
    screen.close_keyboard()
    await w.drawn()

    async def into_view() -> None:
        screen.ids.scroll.scroll_to(screen.rows[FIELD], padding=40, animate=False)
        await w.drawn()

    await into_view()
    got = {"first": offered(app), "shot_first": str(await w.screenshot("nation-few"))}
    await w.tap(f"more:{FIELD}")
    await into_view()
    got["all"] = offered(app)
    got["shot_all"] = str(await w.screenshot("nation-all"))
    await w.tap(f"choice:{FIELD}:藏族")
    await into_view()
    got.update(chosen=terminal.session.values.get(FIELD), after=offered(app),
               shot_after=str(await w.screenshot("nation-chosen")))  # fmt: skip
    await w.tap("language")  # in English the groups are named in English
    await into_view()
    got["shot_english"] = str(await w.screenshot("nation-english"))
    return got


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
