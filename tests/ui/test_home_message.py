"""A message on the home screen (the social-security card read, a fault) must not move
the life-event tiles under the citizen's finger: in portrait a line is kept for it, in
landscape it takes the prompt's line. A real window under Xvfb, each orientation in its
own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("home_message_app.py")


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
def test_a_message_on_the_home_screen_leaves_the_tiles_where_they_were(tmp_path, size):
    got = run_child(CHILD, tmp_path, size)
    assert got["after"] == got["before"]
    assert shows_text(got["screenshot"], "社保卡已读取", [30])
