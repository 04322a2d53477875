"""The technician screen in the real window, against the real emulators and the local
central server (`kiosk demo --scenario technician`, portrait): the corner gesture on
the header, a wrong PIN then the right one, the ID card reader and the scanner found on
ports the config file does not name and put there, the two cameras swapped back, enrolment
of the new terminal with a code
typed on the on-screen keyboard, the self-test's table (every emulated device passes,
and the dashboard receives it), and the way out to the attract screen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.i18n import translate
from tests.support.demo import demo
from tests.support.vision import shows_text

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "technician-portrait-"
DEVICES = ["idcard", "sscard", "printer", "document_camera", "face_camera", "scanner", "platform"]


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> tuple[dict[str, Path], dict]:
    out = tmp_path_factory.mktemp("technician")
    demo("portrait", out, "technician")
    shots = {p.stem.removeprefix(PREFIX): p for p in out.glob(f"{PREFIX}*.png")}
    return shots, json.loads((out / f"{PREFIX}report.json").read_text())


def test_the_gesture_and_the_pin_open_the_technician_screen_and_a_wrong_pin_is_counted(seen):
    shots, report = seen
    # Given a citizen tapping one corner many times: nothing opens
    assert report["one_corner_opened"] is False
    # The PIN pad shows dots for the digits typed, never the digits
    assert shows_text(shots["t02-pin-typed"], "终端维护登录", [48], bold=True)
    assert not shows_text(shots["t02-pin-typed"], "274950", range(20, 64, 4), threshold=0.6)
    # A wrong PIN is refused with the tries left
    assert report["wrong_pin"] == translate("technician.pin_wrong", tries=4)
    assert shows_text(shots["t03-pin-wrong"], report["wrong_pin"], [30])
    # and told again in English when the technician switches the language there
    wrong = translate("technician.pin_wrong", "en", tries=4)
    assert report["pin_pad_switched"] == ["en", translate("technician.pin_prompt", "en"), wrong]
    # The right one opens the technician screen, and cards start no visit meanwhile
    assert report["servicing"] is True
    assert shows_text(shots["t04-technician"], "终端维护", [44], bold=True)


def test_the_reader_and_the_scanner_are_found_and_put_on_their_ports(seen):
    shots, report = seen
    # Given both on ports the udev rules did not name: the screen says they are faulty
    assert report["before"] == {"idcard": "fault", "scanner": "fault"}
    # Looking for devices: the reader answers on its port, the scanner (which only sends) not
    assert report["found"] == [["ttyACM0", "nothing", ""], ["ttyUSB0", "idcard", ""]]
    assert report["found_message"] == translate("technician.ports_found", ports=2, devices=1)
    assert shows_text(shots["t04b-ports-found"], "改用此端口作身份证阅读器", [24], bold=True)
    assert shows_text(shots["t04b-ports-found"], "没有设备应答", [24])
    # Put there, it works; the screen says the choice outlives a restart
    assert report["placed_message"].startswith("身份证阅读器已改用 ")
    assert report["placed_message"].endswith("ttyUSB0，重启后仍然有效")
    # The scanner is heard when a code is scanned, on the other port, and put there
    assert report["listen_message"] == translate("technician.ports_scan_now", seconds=30)
    assert shows_text(shots["t04d-scanner-heard"], "改用此端口作扫码器", [24], bold=True)
    assert report["placed_ports"] == ["ttyUSB0", "ttyACM0"]
    assert report["after"] == {"idcard": "ok", "scanner": "ok"}
    assert shows_text(shots["t04e-ports-placed"], "正在使用：扫码器", [24])
    assert shows_text(shots["t04e-ports-placed"], "正在使用：身份证阅读器", [24])


def test_cameras_on_each_others_hub_ports_are_seen_and_swapped(seen):
    shots, report = seen
    # Neither camera sees what it is for: the screen says they may be swapped
    assert report["cameras_before"] == {"document_camera": "", "face_camera": ""}
    assert report["camera_hint"] == translate("technician.cameras_swapped_maybe")
    assert shows_text(shots["t04f-cameras-swapped"], "没有看到人脸", [24])
    # Swapped: a page under the document camera, a face before the face camera
    assert report["cameras_after"] == {"document_camera": "page", "face_camera": "face"}
    assert report["cameras_message"] == translate("technician.cameras_swapped")
    assert shows_text(shots["t04g-cameras-right"], "看到一页纸", [24], bold=True)
    assert shows_text(shots["t04g-cameras-right"], "看到人脸", [24], bold=True)
    # The receipt paper's width, set on the same panel
    assert report["paper_message"] == translate("technician.paper_changed", mm=58)
    assert shows_text(shots["t04h-paper-58"], "回执纸宽 58 毫米", [24])


def test_the_terminal_is_enrolled_with_the_code_typed_on_the_screen(seen):
    shots, report = seen
    assert report["enrolled_as"].startswith("T")
    assert report["enrol_message"] == translate("technician.enrolled_as",
                                                terminal_id=report["enrolled_as"])  # fmt: skip
    assert shows_text(shots["t06-enrolled"], report["enrolled_as"], [24], bold=True)
    assert shows_text(shots["t06-enrolled"], "已登记", [24], bold=True)
    # and where it stands in the hall, named on the dashboard, reaches its technician screen
    assert report["place_shown"] == "东侧入口 1 号机"
    assert shows_text(shots["t06-enrolled"], "东侧入口 1 号机", [24], bold=True)
    # and enrolling again is not done unawares: the screen says it makes a new terminal
    assert report["enrol_again"] == translate("technician.enrol_replaces",
                                              terminal_id=report["enrolled_as"])  # fmt: skip


def test_the_self_test_shows_every_device_passing_and_the_dashboard_gets_it(seen):
    shots, report = seen
    assert [device for device, _, _ in report["checks"]] == DEVICES
    assert all(passed for _, passed, _ in report["checks"]), report["checks"]
    assert shows_text(shots["t07-selftest"], "7项通过，0项失败", [24], bold=True)
    # the printer check's detail, in the screen's language (no English left on it)
    assert shows_text(shots["t07-selftest"], translate("selftest.printed"), [20])
    assert not shows_text(shots["t07-selftest"], "printed", [20])
    assert report["selftest_sent"] is True
    assert report["selftest_message"] == translate("technician.selftest_sent")
    # the platform holds the results under the terminal's new identity, every device ok
    beats = [b for b in report["selftest_beats"] if b["terminal_id"] == report["enrolled_as"]]
    assert beats and beats[-1]["devices"] == dict.fromkeys(DEVICES, "ok")
    # the same table in English
    assert shows_text(shots["t08-selftest-en"], "7 passed, 0 failed", [24], bold=True)
    assert shows_text(shots["t08-selftest-en"], "printed", [20])


def test_exit_gives_the_terminal_back_to_citizens(seen):
    _shots, report = seen
    assert report["servicing_after_exit"] is False


def test_in_landscape_large_type_the_technician_enrols_and_tests_with_nothing_drawn_over(tmp_path):
    # A technician with the large type left on by the last citizen, on a landscape screen:
    # enrolment's keyboard needs more room than the tool's panel has. The panel scrolls (the
    # code and the keys in view); nothing lies over the title (demo() checks every screen).
    # Its scanner types its codes as a USB keyboard (xdotool types into the window), the
    # config file taking it for a serial one: heard in the keys, switched to on the screen.
    demo("landscape", tmp_path, "technician", options=("--elderly", "--scanner", "wedge"))
    prefix = "technician-landscape-"
    report = json.loads((tmp_path / f"{prefix}report.json").read_text())
    assert report["scanner_driver"] == "wedge"
    assert shows_text(tmp_path / f"{prefix}t04d-scanner-heard.png", "USB 键盘式（无需端口）", [31],
                      bold=True)  # fmt: skip
    assert shows_text(tmp_path / f"{prefix}t04d-scanner-heard.png", "改用键盘式扫码器", [31],
                      bold=True)  # fmt: skip
    assert report["enrolled_as"].startswith("T")
    assert report["selftest_sent"] is True
    assert all(passed for _, passed, _ in report["checks"]), report["checks"]
    # the code typed shows whole above the keys; the verdict above the table
    assert shows_text(tmp_path / f"{prefix}t05-enrol-typed.png", "完成", range(30, 44, 2), bold=True)
    assert shows_text(tmp_path / f"{prefix}t07-selftest.png", "7项通过，0项失败", [31], bold=True)
