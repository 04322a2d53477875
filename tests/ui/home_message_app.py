"""The home screen in a real window, a citizen's card read, then a message shown (the
social-security card read): where the life-event tiles are before and after. Run by
tests/ui/test_home_message.py in its own process (Kivy makes one window per process):
``python tests/ui/home_message_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: the tiles' places before and after, and the screenshot with the
message.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "社保卡已读取：李*英，卡号 362424********0022"


async def script(app, out: Path) -> dict:
    from screens.touch import find_action
    from screens.walkthrough import Walkthrough, until

    w = Walkthrough(app, out)
    await until(lambda: app.root is not None and app.screens.current == "attract", 30, "attract")
    from peripherals.idcard.emulator import sample_cards

    app.terminal.begin(sample_cards()[0])
    app.show("home")
    await until(lambda: app.screens.current == "home", 10, "home")
    await w.drawn()

    def tiles() -> dict[str, list[float]]:
        found = {a: find_action(app.root, a) for a in ("event:birth", "event:school_entry")}
        return {a: list(tile.to_window(*tile.pos)) for a, tile in found.items()}

    before = tiles()
    app.screens.get_screen("home").message = MESSAGE
    shot = await w.screenshot("home-message")
    return {"before": before, "after": tiles(), "screenshot": str(shot)}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
