"""Finding the kiosk's serial devices on ports it has not been told of: the real drivers
ask the emulators over real pty pairs, behind links such as udev makes."""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
import tty

import pytest

from kiosk.devices import IN_USE, NOTHING, UNREADABLE
from peripherals.discovery import SerialFinder, serial_ports
from peripherals.idcard.driver import SerialIdCardReader
from peripherals.idcard.emulator import IdCardReaderEmulator, sample_cards
from peripherals.printer.emulator import PtyPrinterEmulator
from peripherals.scanner.emulator import ScannerEmulator

pytestmark = pytest.mark.integration

RATES = {"idcard": 115200, "printer": 9600, "scanner": 9600}


@pytest.fixture
def hall(tmp_path):
    """A machine whose reader, printer and scanner came up on ports named as a kernel
    names them (links to the emulators' ptys), plus a port with nothing on it."""
    reader = IdCardReaderEmulator(cards=[])
    printer = PtyPrinterEmulator()
    scanner = ScannerEmulator(baudrate=9600)
    dead_master, dead = os.openpty()
    tty.setraw(dead)
    ports = {"ttyUSB0": printer.start(), "ttyUSB1": reader.start(), "ttyACM0": scanner.start(),
             "ttyUSB2": os.ttyname(dead)}  # fmt: skip
    dev = tmp_path / "dev"
    dev.mkdir()
    for name, target in ports.items():
        (dev / name).symlink_to(target)
    yield dev, reader, printer, scanner
    for part in (reader, printer, scanner):
        part.stop()
    os.close(dead_master)
    os.close(dead)


def test_each_device_is_found_on_its_port_and_nothing_is_printed(hall):
    dev, reader, printer, _ = hall
    # When the technician looks for the devices, none of them placed yet
    found = {f.port: f for f in SerialFinder((f"{dev}/tty*",)).find({}, RATES)}
    # Then the printer and the ID card reader answer on their own ports, at their rates,
    # and the scanner's port and the empty one have nothing that answers
    assert set(found) == {f"{dev}/ttyUSB0", f"{dev}/ttyUSB1", f"{dev}/ttyUSB2", f"{dev}/ttyACM0"}
    assert (found[f"{dev}/ttyUSB0"].found, found[f"{dev}/ttyUSB0"].baudrate) == ("printer", 9600)
    assert found[f"{dev}/ttyUSB0"].detail == "ok"
    assert (found[f"{dev}/ttyUSB1"].found, found[f"{dev}/ttyUSB1"].baudrate) == ("idcard", 115200)
    assert found[f"{dev}/ttyUSB1"].detail  # the SAM's id, as vendor tools print it
    assert found[f"{dev}/ttyACM0"].found == NOTHING
    assert found[f"{dev}/ttyUSB2"].found == NOTHING
    # each name says which port it is
    assert found[f"{dev}/ttyUSB1"].same_as.startswith("/dev/pts/")
    # And being asked printed nothing (no job, not a byte of the reader's frames as text)
    assert printer.jobs() == []
    # And the reader, asked by a printer's query first, still reads a card
    reader.insert(sample_cards()[0])
    driver = SerialIdCardReader(f"{dev}/ttyUSB1")
    try:
        assert driver.read_card(timeout=3).id_number == sample_cards()[0].id_number
    finally:
        driver.close()


def test_a_port_the_terminal_uses_is_not_asked(hall):
    dev, reader, _, _ = hall
    # Given the terminal has its reader open on ttyUSB1 (by another name, as udev's link)
    link = dev / "kiosk-idcard"
    link.symlink_to(dev / "ttyUSB1")
    # When devices are looked for
    found = {f.port: f for f in SerialFinder((f"{dev}/*",)).find({str(link): "idcard"}, RATES)}
    # Then that port is listed once, by its stable name, as in use by the reader: not asked
    assert f"{dev}/ttyUSB1" not in found
    row = found[str(link)]
    assert (row.found, row.used_by) == (IN_USE, "idcard")
    assert not row.placeable


TIOCSPTLCK = 0x40045431  # lock a pty's other end: opening it then fails (EIO)


def test_a_port_that_cannot_be_opened_says_why(tmp_path):
    # Given a serial port that refuses to open (here a pty whose other end is locked, as a
    # port another program holds exclusively refuses)
    master, slave = os.openpty()
    port = os.ttyname(slave)
    os.close(slave)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 1))
    try:
        (tmp_path / "ttyUSB9").symlink_to(port)
        # When devices are looked for, Then it is listed, and why it could not be asked is said
        (finding,) = SerialFinder((f"{tmp_path}/ttyUSB9",)).find({}, RATES)
        assert (finding.port, finding.same_as) == (f"{tmp_path}/ttyUSB9", port)
        assert finding.found == UNREADABLE
        assert finding.detail == f"cannot open {tmp_path}/ttyUSB9: Input/output error"
        assert not finding.placeable
    finally:
        os.close(master)


def test_the_scanner_is_found_by_a_scan_and_its_code_is_not_kept(hall, caplog):
    dev, _, _, scanner = hall
    stop = threading.Event()
    heard: list = []
    # When the technician asks the kiosk to listen, and scans a code a second later
    listening = threading.Thread(target=lambda: heard.append(SerialFinder(
        (f"{dev}/tty*",)).listen({f"{dev}/ttyUSB0": "printer", f"{dev}/ttyUSB1": "idcard"}, 9600,
                                 10, stop)))  # fmt: skip
    started = time.monotonic()
    listening.start()
    time.sleep(1.0)
    scanner.scan("110101194910010011")  # whatever is shown: here an ID number
    listening.join(15)
    # Then the scanner's port is the one it was heard on, well before the time is up
    assert heard[0] is not None and heard[0].port == f"{dev}/ttyACM0"
    assert (heard[0].found, heard[0].baudrate) == ("scanner", 9600)
    assert time.monotonic() - started < 8
    # And what was scanned is nowhere: not in the finding, not in the log
    assert "110101194910010011" not in repr(heard[0]) + caplog.text


def test_nothing_scanned_is_nothing_found(hall):
    dev, *_ = hall
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()  # the technician gives up
    started = time.monotonic()
    assert SerialFinder((f"{dev}/tty*",)).listen({}, 9600, 30, stop) is None
    assert time.monotonic() - started < 5


def test_links_to_one_port_are_one_line_and_cameras_are_not_serial_ports(tmp_path):
    master, slave = os.openpty()
    try:
        real = os.ttyname(slave)
        (tmp_path / "ttyUSB0").symlink_to(real)
        (tmp_path / "kiosk-printer").symlink_to(real)
        (tmp_path / "kiosk-doccam").symlink_to("/dev/null")  # not a tty
        (tmp_path / "kiosk-gone").symlink_to(tmp_path / "nowhere")
        assert serial_ports((f"{tmp_path}/*",)) == [(f"{tmp_path}/kiosk-printer", real, "")]
    finally:
        os.close(master)
        os.close(slave)
