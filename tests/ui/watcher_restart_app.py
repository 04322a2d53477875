"""The card watcher meets a defect in the middle of a round (here: the home screen fails
to show for a visit just begun) and carries on: the visit it began is ended and wiped, its
card must be taken before another visit, and the next card laid down begins one. Run by
tests/ui/test_watcher_restart.py in its own process (Kivy makes one window per process):
``python tests/ui/watcher_restart_app.py OUT_DIR WIDTH HEIGHT``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    import asyncio

    from screens.walkthrough import until
    from tests.fakes import an_id_card

    reader = app.terminal.ports.id_reader
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    show, failed = app.show, []

    def failing_once(name: str) -> None:
        if name == "home" and not failed:
            failed.append(name)
            raise RuntimeError("a defect in a screen")
        show(name)

    app.show = failing_once
    reader.card = an_id_card()
    await until(lambda: failed, 10, "the failing round")
    await until(lambda: app.terminal.session is None, 10, "the visit it began ended")
    ended = {"session": app.terminal.session is None, "screen": app.screens.current}
    await asyncio.sleep(2.5)  # the watcher's pause, and longer: the card still lies there
    lying = {"session": app.terminal.session is None, "screen": app.screens.current}
    reader.card = None  # taken away
    await asyncio.sleep(0.8)
    reader.card = an_id_card()  # and laid down again
    await until(lambda: app.screens.current == "home", 10, "the next visit's home screen")
    return {"ended": ended, "lying": lying, "next": app.terminal.session is not None}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from kiosk.terminal import Ports
    from tests.fakes import FakeIdReader
    from tests.support.window_child import kiosk_window

    kiosk_window(script, ports=lambda: Ports(id_reader=FakeIdReader()))
