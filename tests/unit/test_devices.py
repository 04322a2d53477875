"""The technician's device ports, kept in the data dir and laid over the config file."""

from __future__ import annotations

import json
import os
import stat

import pytest

from kiosk.config import IdCardConfig, KioskConfig, PrinterConfig, ScannerConfig
from kiosk.devices import (
    FILE,
    Placement,
    load_placements,
    save_placement,
    serial_in_use,
    serial_of,
    where,
    with_placements,
)

READER = Placement("idcard", "/dev/ttyUSB1", 115200)
PRINTER = Placement("printer", "/dev/ttyUSB0", 19200)
SCANNER = Placement("scanner", "/dev/ttyACM0", 9600)


def test_nothing_kept_is_nothing_placed(tmp_path):
    assert load_placements(tmp_path) == {}
    assert with_placements(KioskConfig(), {}) == KioskConfig()


def test_each_choice_is_kept_beside_the_others_for_the_kiosks_user_only(tmp_path):
    save_placement(tmp_path / "kiosk", READER)
    kept = save_placement(tmp_path / "kiosk", SCANNER)
    assert kept == {"idcard": READER, "scanner": SCANNER}
    assert load_placements(tmp_path / "kiosk") == kept
    # the reader moved again: the last choice wins
    save_placement(tmp_path / "kiosk", Placement("idcard", "/dev/ttyUSB2", 9600))
    assert load_placements(tmp_path / "kiosk")["idcard"].port == "/dev/ttyUSB2"
    path = tmp_path / "kiosk" / FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [FILE]  # no temporary file left


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '"x"'])
def test_a_damaged_file_leaves_the_config_files_ports(tmp_path, text, caplog):
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    assert load_placements(tmp_path) == {}


def test_a_damaged_entry_is_skipped_and_the_others_hold(tmp_path):
    (tmp_path / FILE).write_text(json.dumps({
        "idcard": {"port": "/dev/ttyUSB1", "baudrate": 115200},
        "printer": {"port": "ttyUSB0", "baudrate": 9600},  # not a path
        "scanner": {"port": "/dev/ttyACM0", "baudrate": True},  # not a rate
        "camera": {"port": "/dev/video0", "baudrate": 1},  # not a serial device of ours
        "sscard": "x",
    }), encoding="utf-8")  # fmt: skip
    assert load_placements(tmp_path) == {"idcard": READER}


def test_placements_lie_over_the_config_file():
    cfg = with_placements(KioskConfig(), {"idcard": READER, "printer": PRINTER, "scanner": SCANNER})
    assert (cfg.idcard.port, cfg.idcard.baudrate) == ("/dev/ttyUSB1", 115200)
    assert cfg.printer.connection == "serial:///dev/ttyUSB0?baudrate=19200"
    assert serial_of(cfg.printer.connection) == ("/dev/ttyUSB0", 19200)
    assert (cfg.scanner.port, cfg.scanner.baudrate) == ("/dev/ttyACM0", 9600)
    assert serial_in_use(cfg) == {"/dev/ttyUSB1": "idcard", "/dev/ttyUSB0": "printer",
                                  "/dev/ttyACM0": "scanner"}  # fmt: skip
    assert cfg.printer.paper_mm == KioskConfig().printer.paper_mm  # the rest stays


def test_a_device_switched_off_stays_so():
    cfg = KioskConfig(idcard=IdCardConfig(driver="none"), printer=PrinterConfig(driver="none"),
                      scanner=ScannerConfig(driver="none"))  # fmt: skip
    placed = with_placements(cfg, {"idcard": READER, "printer": PRINTER, "scanner": SCANNER})
    assert placed == cfg
    assert serial_in_use(cfg) == {}
    assert [where(cfg, d) for d in ("idcard", "printer", "scanner")] == ["", "", ""]


def test_a_scanner_found_typing_is_used_as_a_keyboard_one_and_the_other_way_round(tmp_path):
    from kiosk.devices import WEDGE

    typing = Placement("scanner", WEDGE, 0)
    save_placement(tmp_path, typing)
    assert load_placements(tmp_path) == {"scanner": typing}
    cfg = with_placements(KioskConfig(), {"scanner": typing})  # configured as a serial one
    assert cfg.scanner.driver == "wedge" and serial_in_use(cfg) == {
        "/dev/kiosk-idcard": "idcard"}  # its port is no longer taken
    assert where(cfg, "scanner") == ""
    back = with_placements(cfg, {"scanner": SCANNER})  # a serial one found later
    assert (back.scanner.driver, back.scanner.port) == ("serial", "/dev/ttyACM0")


def test_where_a_network_printer_is():
    cfg = KioskConfig(printer=PrinterConfig(connection="tcp://10.0.0.5:9100"))
    assert where(cfg, "printer") == "tcp://10.0.0.5:9100"
    assert serial_of(cfg.printer.connection) is None
    assert "/dev/kiosk-idcard" in serial_in_use(cfg)
    assert all(device != "printer" for device in serial_in_use(cfg).values())


def test_the_cameras_swapped_are_kept_and_laid_over_the_config_file(tmp_path):
    from kiosk.config import CameraConfig
    from kiosk.devices import swapped_cameras

    cfg = KioskConfig(camera=CameraConfig(document="v4l2:///dev/kiosk-doccam",
                                          face="v4l2:///dev/kiosk-facecam"))  # fmt: skip
    document, face = swapped_cameras(cfg)
    save_placement(tmp_path, document, face)
    kept = load_placements(tmp_path)
    assert kept == {"document_camera": document, "face_camera": face}
    swapped = with_placements(cfg, kept)
    assert (swapped.camera.document, swapped.camera.face) == ("v4l2:///dev/kiosk-facecam",
                                                              "v4l2:///dev/kiosk-doccam")  # fmt: skip
    assert where(swapped, "face_camera") == "v4l2:///dev/kiosk-doccam"
    # a kiosk without a face camera gets none from a placement
    assert with_placements(KioskConfig(camera=CameraConfig(face="")), kept
                           ).camera.face == ""  # fmt: skip
    with pytest.raises(ValueError):
        swapped_cameras(KioskConfig(camera=CameraConfig(face="")))


def test_a_camera_entry_must_name_a_source_and_no_rate(tmp_path):
    (tmp_path / FILE).write_text(json.dumps({
        "document_camera": {"port": "/dev/video0", "baudrate": 0},  # no scheme
        "face_camera": {"port": "v4l2:///dev/video2", "baudrate": 9600},
    }), encoding="utf-8")  # fmt: skip
    assert load_placements(tmp_path) == {}


def test_the_paper_width_is_kept_beside_the_placements(tmp_path):
    from kiosk.devices import load_paper, save_paper, with_paper

    save_placement(tmp_path, READER)
    save_paper(tmp_path, 58)
    save_placement(tmp_path, SCANNER)  # placements after it keep it
    assert load_paper(tmp_path) == 58
    assert load_placements(tmp_path) == {"idcard": READER, "scanner": SCANNER}
    assert with_paper(KioskConfig(), 58).printer.paper_mm == 58
    assert with_paper(KioskConfig(), None) == KioskConfig()
    assert with_paper(KioskConfig(printer=PrinterConfig(driver="none")), 58).printer.paper_mm == 80
    with pytest.raises(ValueError):
        save_paper(tmp_path, 76)
    (tmp_path / FILE).write_text(json.dumps({"paper_mm": 76}), encoding="utf-8")
    assert load_paper(tmp_path) is None
