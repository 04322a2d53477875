"""The materials list in large type in a real window: for every page of the list, whether
each row on it lies wholly inside the list (nothing cut at the page's foot). Run by
tests/ui/test_materials_pages.py in its own process (Kivy makes one window per process):
``python tests/ui/materials_pages_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: per page, the rows shown and how many lie wholly in the list, and a
screenshot of the first page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    from kiosk.cli import DEMO_ANSWERS
    from peripherals.idcard.emulator import sample_cards
    from screens.walkthrough import Walkthrough, until

    w = Walkthrough(app, out)
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    terminal = app.terminal
    app.toggle_elderly()  # large type, as the citizen's "长者模式" button sets it
    terminal.begin(sample_cards()[0])
    q = terminal.journey.choose("birth", terminal.now())
    for value in DEMO_ANSWERS:
        q = terminal.journey.answer(q.id, value, terminal.now())
    app.show("materials")
    await until(lambda: app.screens.current == "materials", 10, "materials")
    screen = app.screens.current_screen
    shot = None
    pages = []
    while True:
        await w.drawn()  # laid out, and fitted to the rows' heights
        scroll = screen.ids.scroll
        bottom, top = scroll.to_window(*scroll.pos)[1], scroll.to_window(scroll.right, scroll.top)[1]
        rows = list(screen.ids.rows.children)
        whole = [r for r in rows if r.to_window(*r.pos)[1] >= bottom - 1
                 and r.to_window(r.right, r.top)[1] <= top + 1]  # fmt: skip
        pages.append({"rows": len(rows), "whole": len(whole)})
        if shot is None:
            shot = str(await w.screenshot("materials-large-type"))
        pager = screen.ids.pager
        if pager.page + 1 >= pager.pages:
            break
        await w.tap("page:next")
    return {"pages": pages, "materials": len(terminal.journey.outstanding()), "screenshot": shot}


def main() -> None:
    out = Path(sys.argv[1])
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
    print(json.dumps(drive(app, lambda: script(app, out))))


if __name__ == "__main__":
    main()
