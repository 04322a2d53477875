"""A queue ticket asked for while the hall's windows are shut, in a real window under
Xvfb: no number, but why, and when to come back, in the citizen's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("ticket_closed_app.py")


def test_no_ticket_while_the_windows_are_shut_says_why_and_when_to_come_back(tmp_path):
    got = run_child(CHILD, tmp_path, (1080, 1920))
    # The hall's office hours over the queues
    assert got["hours"] == "取号时间：工作日 8:30–12:00, 14:00–17:30"
    # A ticket asked for at night: none on screen, and when tickets come again
    assert not got["taken"]
    assert got["said"].startswith("窗口现在不办公，暂不能取号。下次可取号：2026年12月8日 8:30")
    assert "24 小时" in got["said"]
    assert shows_text(got["shot"], "窗口现在不办公，暂不能取号。", range(28, 34))
    # And in English, switched on that screen
    assert got["said_en"].startswith("The windows are closed now: no queue tickets until 8 December 2026 8:30")
    assert got["hours_en"] == "Tickets on working days, 8:30–12:00, 14:00–17:30"
