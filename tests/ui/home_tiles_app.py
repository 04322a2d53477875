"""The home screen's life-event tiles in large type, in a real window: for each tile of the
first page, whether its note (the matters it brings together) shows whole, and the size of
its picture. Run by tests/ui/test_home_tiles.py in its own process:
``python tests/ui/home_tiles_app.py OUT_DIR WIDTH HEIGHT LANGUAGE [normal]`` (large type
unless ``normal``).

Prints one JSON line: the tiles, and a screenshot.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def script(app, out: Path) -> dict:
    from peripherals.idcard.emulator import sample_cards
    from screens.walkthrough import until
    from screens.widgets import Tile, wrapped_lines
    from tests.support.window_child import attract

    w = await attract(app, out, elderly=sys.argv[5:6] != ["normal"])
    if sys.argv[4] != app.language:
        app.toggle_language()
    app.terminal.begin(sample_cards()[0])
    app.show("home")
    await until(lambda: app.screens.current == "home", 10, "home")
    await w.drawn(at_least=0.5)
    tiles = []
    for tile in app.screens.get_screen("home").ids.tiles.children[::-1]:
        if not isinstance(tile, Tile):
            continue
        note = tile.ids.note
        lines, _ = wrapped_lines(tile.note, note.width, note.font_size, note.font_name)
        tiles.append({"action": tile.action, "note": tile.note, "note_lines": lines,
                      "note_room": note.max_lines, "note_font": note.font_size,
                      "shown": note._label.text, "shown_lines": len(note._label.text.split("\n")),
                      "glyph": tile.ids.glyph.height, "note_height": note.height,
                      "caption_height": tile.ids.caption.height, "glyph_wanted": tile.glyph_wanted,
                      "tile": tile.height})  # fmt: skip
    return {"tiles": tiles, "shot": str(await w.screenshot(f"home-tiles-{app.language}"))}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
