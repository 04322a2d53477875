"""A message on the home screen (the social-security card read, a fault) must not move
the life-event tiles under the citizen's finger: in portrait a line is kept for it, in
landscape it takes the prompt's line. A real window under Xvfb, each orientation in its
own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from peripherals.supervisor import Xvfb
from tests.support.vision import shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("home_message_app.py")


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
def test_a_message_on_the_home_screen_leaves_the_tiles_where_they_were(tmp_path, size):
    display = Xvfb(*size)
    display.start(tmp_path)
    try:
        proc = subprocess.run(
            [sys.executable, str(CHILD), str(tmp_path), *map(str, size)],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT), **display.env()),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        display.stop()
    assert proc.returncode == 0, f"home window failed:\n{proc.stderr[-3000:]}"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["after"] == got["before"]
    assert shows_text(got["screenshot"], "社保卡已读取", [30])
