"""Every life event of the county's catalog has a picture on its home-screen tile, and each
picture stays inside the tile's circle (a character in its place meant nothing in English)."""

from __future__ import annotations

import math

from screens.pictograms import ICONS
from tests.support.county import county_catalog


def test_every_life_event_of_the_catalog_has_a_picture():
    missing = {e.code: e.icon for e in county_catalog().life_events.values() if e.icon not in ICONS}
    assert not missing


def test_every_picture_stays_inside_the_circle():
    for name, shapes in ICONS.items():
        for kind, *args in shapes:
            if kind == "line":
                points = args[0]
            elif kind in ("ring", "disc"):
                (u, v), r = args
                points = [(u + dx * r, v + dy * r) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
            else:
                (u, v), (w, h) = args
                points = [(u, v), (u + w, v), (u, v + h), (u + w, v + h)]
            for u, v in points:  # 0.42 of the square's side from its centre: within the circle
                assert math.hypot(u - 0.5, v - 0.5) <= 0.42, (name, kind, (u, v))
    # (drawn on the home screen in the UI tests: instructions need a GL context)
