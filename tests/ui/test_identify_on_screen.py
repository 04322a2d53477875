"""Identifying without a card, and the face check, in the real window against the real
emulators and the local central server: `kiosk demo --scenario eid|face-refused`.

The e-ID codes come from `central eid issue` and reach the kiosk through a scanner: in
the first test a USB one that types them (`--scanner wedge`: key presses on the X display,
the kiosk's window passing them to the scanner), in the second the serial scanner
emulator; the photo of record is `central photos add`; the face camera is a
file the camera part serves (the citizen's photo, or somebody else's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.demo import demo
from tests.support.vision import shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]


def run_scenario(scenario: str, orientation: str, out: Path, *options: str,
                 ) -> tuple[dict[str, Path], dict]:  # fmt: skip
    proc = demo(orientation, out, scenario, options=options)
    prefix = f"{scenario}-{orientation}-"
    shots = {
        Path(p).stem.removeprefix(prefix): Path(p)
        for p in proc.stdout.split()
        if p.endswith(".png")
    }
    return shots, json.loads((out / f"{prefix}report.json").read_text())


def test_an_electronic_id_qr_identifies_the_citizen_and_the_right_face_passes(tmp_path):
    # a scanner that types its codes as a USB keyboard (the serial one: the next test)
    shots, report = run_scenario("eid", "portrait", tmp_path, "--scanner", "wedge")
    # An expired code shown to the scanner is explained, with what to do
    assert shows_text(shots["02-eid-expired"], "电子身份证二维码已过期", [30], bold=True)
    # Touched to start without a card, the home screen still takes the e-ID
    assert shows_text(shots["02b-home-no-card"], "或出示电子身份证二维码", [30])
    # A fresh one: the home screen greets the citizen by the name the platform verified
    assert shows_text(shots["03-home-eid"], "刘建国，您好", [52], bold=True)
    # Retiring needs the face check: the live picture, then the match with the photo of record
    assert shows_text(shots["04-face-looking"], "人脸核验：确认是您本人", [44], bold=True)
    assert shows_text(shots["05-face-matched"], "核验通过，谢谢", [40], bold=True)
    # and the form follows, filled from the electronic ID (its number masked, as a card's)
    assert shows_text(shots["06-form"], "362425********0015", range(26, 33))
    # said to come from the electronic ID shown, not from a card the citizen never laid
    assert shows_text(shots["06-form"], "已从电子身份证读取", range(26, 33))
    assert not shows_text(shots["06-form"], "已从证件读取", range(26, 33))
    assert report["face_verified"] is True
    # And a code the typing scanner reads while a field has the focus reaches no field
    assert report["field_focused"] and report["typed_into_fields"] == []


def test_somebody_else_s_face_is_refused_three_times_then_staff_are_called(tmp_path):
    shots, report = run_scenario("face-refused", "landscape", tmp_path)
    # In elderly mode (larger type), the first refusal says so and how many tries are left
    assert shows_text(shots["face-not-matched"], "未能确认是您本人", [46, 47], bold=True)
    assert shows_text(shots["face-not-matched"], "再拍一次", [39], bold=True)
    # After the third, a member of staff is offered, then called
    assert shows_text(shots["face-staff"], "请工作人员协助", [39], bold=True)
    assert shows_text(shots["face-staff-called"], "已通知工作人员", [46, 47], bold=True)
    assert report == {"face_verified": False, "face_attempts": 3, "stored_submissions": []}
