"""The life-event tiles in large type on a landscape screen: a tile's note says which
matters the "one thing" brings together, and an older citizen reads it to choose. The
picture above it gives way, so far, for the whole note; the tiles of a page keep one size
of picture; a note too long even so keeps its picture whole and ends in "…". A real
window under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("home_tiles_app.py")


def test_in_large_type_the_birth_tile_says_every_matter_it_brings_together(tmp_path):
    got = run_child(CHILD, tmp_path, (1920, 1080), "zh")
    tiles = {t["action"]: t for t in got["tiles"]}
    birth = tiles["event:birth"]
    # the birth bundle's note, to its last matter (生育待遇), not cut at "社保…"
    assert birth["note"].endswith("生育待遇一次办")
    assert birth["note_lines"] <= birth["note_room"], birth
    size = round(birth["note_font"])
    assert shows_text(got["shot"], "生育待遇一次办", [size - 1, size, size + 1])
    # one size of picture on the page, and still a picture, not a dot
    assert len({round(t["glyph"]) for t in got["tiles"]}) == 1, got["tiles"]
    assert birth["glyph"] >= 0.2 * birth["tile"]


def test_where_no_note_fits_whole_the_pictures_stay_whole(tmp_path):
    # large English type on a landscape screen: every note is cut; no picture shrinks for it
    got = run_child(CHILD, tmp_path, (1920, 1080), "en")
    assert all(t["note_lines"] > t["note_room"] for t in got["tiles"]), got["tiles"]
    # (the whole picture: 0.42 of the tile inside its padding, 0.37 of it all; the least 0.21)
    assert all(t["glyph"] >= 0.35 * t["tile"] for t in got["tiles"]), got["tiles"]


def test_in_portrait_every_note_shows_whole_or_ends_in_an_ellipsis(tmp_path):
    # normal type, three tiles a row: a note's third line was promised room it did not have,
    # and dropped without "…" ("…社保卡、生"), so a cut list of matters read as whole
    got = run_child(CHILD, tmp_path, (1080, 1920), "zh", "normal")
    tiles = {t["action"]: t for t in got["tiles"]}
    for t in got["tiles"]:
        assert t["note_lines"] <= t["note_room"] or t["shown"].endswith("…"), t
        assert t["shown_lines"] * t["note_font"] * 1.45 <= t["note_height"] + 1, t
    size = round(tiles["event:birth"]["note_font"])
    # the birth note's last words, and the business note's ("一个工作日办结"), on the screen
    assert shows_text(got["shot"], "待遇一次办", [size - 1, size, size + 1])
    assert shows_text(got["shot"], "作日办结", [size - 1, size, size + 1])
