"""The card watcher outlives a defect in one round, in a real window under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("watcher_restart_app.py")


def test_a_defect_mid_round_ends_that_visit_and_the_next_card_begins_one(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    # the visit the failed round began is over, wiped, back on the attract screen
    assert got["ended"] == {"session": True, "screen": "attract"}
    # its card, still lying there, begins no second visit over it
    assert got["lying"] == {"session": True, "screen": "attract"}
    # and once it is taken and laid down again, a visit begins as ever
    assert got["next"] is True
