"""Around the end of a visit, in the real window with the ID card reader emulator on a pty:
the header's "something went wrong" notice passes and ends with the visit (as the staff-
called notices do), and 完成 touched before the readers were looked at does not let a
card still on the reader go unasked for. Each in its own process (tests/ui/header_goodbye_app.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.i18n import translate
from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("header_goodbye_app.py")
PORTRAIT = (1080, 1920)


def test_the_something_went_wrong_notice_passes_and_ends_with_the_visit(tmp_path):
    seen = run_child(CHILD, tmp_path, PORTRAIT, "error-notice")
    wrong = translate("error.generic")
    # Given a defect in a screen met by a touch, the header says something went wrong
    assert seen["shown"] and seen["said"] == wrong
    assert shows_text(seen["shots"]["shown"], wrong, [26], bold=True)
    # Then it stays for its time (2 s in this test) and passes by itself
    assert seen["still_at_1s"], seen
    assert seen["passed"] and 1.5 <= seen["passed_after"] <= 5.0, seen
    assert not shows_text(seen["shots"]["passed"], wrong, [26], bold=True)
    # And shown again, it ends with the visit: gone at the goodbye, and not the next citizen's
    assert seen["shown_again"]
    assert (seen["at_goodbye"], seen["at_attract"], seen["next_visit"]) == ("", "", ""), seen
    assert not shows_text(seen["shots"]["next_visit"], wrong, [26], bold=True)


def test_done_touched_before_the_readers_were_looked_at_still_asks_for_the_card(tmp_path):
    seen = run_child(CHILD, tmp_path, PORTRAIT, "done-at-once")
    # Given 完成 touched on the goodbye before the watch of the readers had looked at them
    # (a read takes over a second at 9600 baud), the ID card still on the reader
    assert seen["looked_before_tap"] is False, seen
    # Then the goodbye stays and asks for the card: the visit is not over for the next citizen
    assert seen["asked"] and seen["current"] == "end" and seen["left"] == ["id_card"], seen
    assert seen["after_tap"] == [] and not seen["attract_card_left"], seen
    assert shows_text(seen["shots"]["still"], "别忘了取走读卡器上的身份证", [60], bold=True)
    # And once it is taken the goodbye goes, no card said to be left
    assert seen["went_when_taken"] and not seen["card_left_after"], seen
