"""A list shown a page at a time in large type, in a real window: the materials list or
the review of the application. For every page, whether each row on it lies wholly inside
the list (nothing cut at the page's foot). Run by tests/ui/test_paged_lists.py in its own
process (Kivy makes one window per process):
``python tests/ui/paged_list_app.py OUT_DIR WIDTH HEIGHT materials|review``.

Prints one JSON line: per page, the rows shown and how many lie wholly in the list; the
rows of the whole list; and a screenshot of the first page.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path, which: str) -> dict:
    from kiosk.cli import DEMO_ANSWERS, DEMO_FORM
    from kiosk.validation import normalize_date
    from peripherals.idcard.emulator import sample_cards
    from screens.touch import centre, find_action, press, release
    from screens.walkthrough import Walkthrough, until

    w = Walkthrough(app, out)
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    terminal = app.terminal
    app.toggle_elderly()  # large type, as the citizen's "长者模式" button sets it
    terminal.begin(sample_cards()[0])
    q = terminal.journey.choose("birth", terminal.now())
    for value in DEMO_ANSWERS:
        q = terminal.journey.answer(q.id, value, terminal.now())
    if which == "review":  # the form filled in, as the citizen typed it
        for f in terminal.journey.form().fields:
            if f.id in DEMO_FORM and not terminal.session.values.get(f.id):
                terminal.journey.set_value(f.id, normalize_date(DEMO_FORM[f.id]), terminal.now())
    app.show(which)
    await until(lambda: app.screens.current == which, 10, which)
    screen = app.screens.current_screen
    shot = None
    pages = []
    double_tap = None
    while True:
        await w.drawn()  # laid out, and paged by the rows' heights
        if which == "review":  # its button greyed for a second after a turn: read on after
            await until(lambda: not screen.guarded, 5, "the button to be enabled again")
        scroll = screen.ids.scroll
        bottom, top = scroll.to_window(*scroll.pos)[1], scroll.to_window(scroll.right, scroll.top)[1]
        rows = list(screen.ids.rows.children)
        whole = [r for r in rows if r.to_window(*r.pos)[1] >= bottom - 1
                 and r.to_window(r.right, r.top)[1] <= top + 1]  # fmt: skip
        # which of the screen's own buttons it offers: Submit, or the next page to read
        offers = [a for a in ("submit", "next_page", "page:next")
                  if find_action(app.root_window, a) is not None]  # fmt: skip
        pages.append({"rows": len(rows), "whole": len(whole), "offers": offers})
        if shot is None:
            shot = str(await w.screenshot(f"{which}-large-type"))
        pager = screen.ids.pager
        if pager.page + 1 >= pager.pages:
            break
        # the review's big button turns its pages (as a citizen reads on); the list's pager
        # elsewhere
        await w.tap("next_page" if "next_page" in offers else "page:next")
        if "next_page" in offers and pager.page + 1 == pager.pages:
            # a double tap: the same button, now Submit on the last page, pressed again at once
            button = screen.ids.submit_button
            touch = press(*centre(button))
            await asyncio.sleep(0.08)
            release(touch)
            await w.drawn()
            double_tap = {"still_on": app.screens.current, "busy": screen.busy,
                          "tried": screen._failure is not None or bool(screen.error),
                          "greyed": screen.ids.submit_button.disabled}
    return {"pages": pages, "rows": sum(len(p) for p in screen._pages), "screenshot": shot,
            "materials": len(terminal.journey.outstanding()), "double_tap": double_tap}  # fmt: skip


def main() -> None:
    out, which = Path(sys.argv[1]), sys.argv[4]
    sys.path.insert(0, str(ROOT))
    from kiosk.config import DisplayConfig, KioskConfig
    from screens.window import configure

    configure(DisplayConfig(width=int(sys.argv[2]), height=int(sys.argv[3])), out / "kivy")
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.terminal import Ports, Terminal
    from screens.app import KioskApp
    from tests.support.window_child import drive

    terminal = Terminal(Ports(), KioskConfig(), load_catalog(default_catalog_dir()))
    app = KioskApp(terminal, ["通知"], "洲湖镇便民服务中心")
    print(json.dumps(drive(app, lambda: script(app, out, which))))


if __name__ == "__main__":
    main()
