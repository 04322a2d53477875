"""A change of language in the middle of a screen, in a real window: the home screen's
tiles, a guided question, the form (a birth), the materials and the review (after a
death: a material brought later), each switched to
English while on it (and the rating after it). Run by tests/ui/test_language_switch.py in
its own process (Kivy makes one window per process):
``python tests/ui/language_switch_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: for each screen, the texts on it after the switch, and a screenshot.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    from kiosk.cli import AFTER_DEATH_ANSWERS, DEMO_ANSWERS
    from peripherals.idcard.emulator import sample_cards
    from screens.walkthrough import until, visible_texts
    from tests.support.window_child import attract

    w = await attract(app, out)
    terminal, got = app.terminal, {}

    async def switched(name: str) -> None:
        """On screen ``name``: to English and what it shows, then back to Chinese."""
        await until(lambda: app.screens.current == name, 10, name)
        await w.drawn(at_least=0.3)
        await w.tap("language")
        await until(lambda: app.language == "en", 5, "English")
        await w.drawn(at_least=0.3)
        got[name] = {"texts": visible_texts(app.root_window),
                     "shot": str(await w.screenshot(f"{name}-en"))}  # fmt: skip
        await w.tap("language")
        await until(lambda: app.language == "zh", 5, "Chinese")
        await w.drawn()

    terminal.begin(sample_cards()[0])
    app.show("home")
    await switched("home")
    terminal.journey.choose("birth", terminal.now())
    app.show("question")
    await switched("question")
    q = terminal.journey.current_question()
    got["question"]["asked"] = [q.text.en, q.options[0].label.en]
    for value in DEMO_ANSWERS:
        q = terminal.journey.answer(q.id, value, terminal.now())
    app.show("form")
    await switched("form")
    # the form opens with the keyboard up in its first field: switched while typing, the
    # keys still reach that field, now shown in the other language
    form = app.screens.current_screen
    await until(lambda: form.keyboard is not None and any(i.focus for i in form.inputs.values()),
                10, "the keyboard in the first field")  # fmt: skip
    field = next(i for i in form.inputs.values() if i.focus).field_id
    await w.tap("language")
    await until(lambda: app.language == "en", 5, "English")
    await w.drawn(at_least=0.3)
    await until(lambda: form.keyboard is not None and form.inputs[field].focus, 5, "the keyboard again")
    for key in ("key:1", "key:3", "key:9"):
        await w.tap(key)
    await w.drawn()
    got["form"]["typed"] = {"shown": form.inputs[field].text,
                            "kept": terminal.session.values.get(field, "")}  # fmt: skip
    await w.tap("language")
    await until(lambda: app.language == "zh", 5, "Chinese")
    await w.drawn()
    # after a death: a material brought later, with a promise over the pad
    q = terminal.journey.choose("after_death", terminal.now())
    for value in AFTER_DEATH_ANSWERS:
        q = terminal.journey.answer(q.id, value, terminal.now())
    terminal.journey.start_form()
    app.show("materials")
    await w.drawn()
    await w.tap("defer:driving_licence")  # the promise's words switch too
    await switched("materials")
    app.show("review")
    await switched("review")
    app.show("rate")
    await w.drawn()
    await w.tap("stars:1")  # a bad rating: its reasons, built in Python, switch too
    await switched("rate")
    return got


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
