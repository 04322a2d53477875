"""A technician puts the ID card reader and the scanner on the ports they were found on:
the terminal uses them at once, keeps the choice for its next start, and a citizen's card
and code reach it there. Real drivers, emulators on real pty pairs, linked as udev links
(the config file's stable names lead nowhere: the rules did not know the USB bridges)."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from dataclasses import replace

import pytest

from kiosk.cli import as_installed, build_device, build_ports
from kiosk.config import (
    CameraConfig,
    IdCardConfig,
    KioskConfig,
    PlatformConfig,
    PrinterConfig,
    ScannerConfig,
    SocialCardConfig,
    TechnicianConfig,
)
from kiosk.devices import FILE, IN_USE, load_placements
from kiosk.errors import DeviceError
from kiosk.terminal import Terminal
from peripherals.discovery import SerialFinder
from peripherals.idcard.emulator import IdCardReaderEmulator, sample_cards
from peripherals.scanner.emulator import ScannerEmulator

pytestmark = pytest.mark.integration


@pytest.fixture
def machine(tmp_path):
    reader, scanner = IdCardReaderEmulator(cards=[]), ScannerEmulator(baudrate=9600)
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyUSB0").symlink_to(reader.start())
    (dev / "ttyACM0").symlink_to(scanner.start())
    cfg = KioskConfig(
        idcard=IdCardConfig(port=str(dev / "kiosk-idcard")),
        sscard=SocialCardConfig(driver="none"),
        printer=PrinterConfig(driver="none"),
        camera=CameraConfig(document="", face=""),
        scanner=ScannerConfig(port=str(dev / "kiosk-scanner")),
        platform=PlatformConfig(url=""),
        technician=TechnicianConfig(serial_ports=(f"{dev}/*",)),
        data_dir=str(tmp_path / "kiosk"),
    )
    yield cfg, dev, reader, scanner
    reader.stop()
    scanner.stop()


def terminal_for(cfg: KioskConfig) -> Terminal:
    terminal = Terminal(build_ports(cfg), cfg)
    terminal.finder, terminal.device_builder = SerialFinder(cfg.technician.serial_ports), build_device
    return terminal


async def listening(terminal: Terminal, settle: float) -> tuple[asyncio.Future, threading.Event]:
    """The technician has the terminal and it listens for a scanner (``settle`` s on)."""
    terminal.begin_service()
    stop = threading.Event()
    heard = asyncio.ensure_future(terminal.listen_for_scanner(10, stop))
    await asyncio.sleep(settle)
    return heard, stop


async def identify(terminal: Terminal, timeout: float = 10):
    stop = asyncio.Event()
    try:
        return await asyncio.wait_for(terminal.wait_for_card(stop, interval=0.1), timeout)
    finally:
        stop.set()


def test_the_reader_put_on_its_port_reads_the_next_citizens_card_and_after_a_restart(machine):
    cfg, dev, reader, _ = machine

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            # Given the reader is on no port: its state says it cannot be opened
            (before,) = [h for h in await terminal.device_health() if h.device == "idcard"]
            assert not before.ok and "No such file or directory" in before.reason
            # When the technician looks for the devices and puts the reader where it answered
            terminal.begin_service()
            found = {f.port.rsplit("/", 1)[-1]: f for f in await terminal.find_devices()}
            assert found["ttyUSB0"].found == "idcard"
            await terminal.place_device("idcard", found["ttyUSB0"].port, found["ttyUSB0"].baudrate)
            # Then it works at once, and looking again finds that port in use by it
            (after,) = [h for h in await terminal.device_health() if h.device == "idcard"]
            assert after.ok, after
            again = {f.port.rsplit("/", 1)[-1]: f for f in await terminal.find_devices()}
            assert (again["ttyUSB0"].found, again["ttyUSB0"].used_by) == (IN_USE, "idcard")
            # And once the technician has left, a citizen's card starts a visit
            terminal.end_service()
            reader.insert(sample_cards()[0])
            card = await identify(terminal)
            assert card.id_number == sample_cards()[0].id_number
            reader.remove()
        finally:
            terminal.close()

    asyncio.run(run())
    # And the choice is kept, readable by the kiosk's user only, and used at the next start
    kept = os.path.join(cfg.data_dir, FILE)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert load_placements(cfg.data_dir)["idcard"].port == str(dev / "ttyUSB0")
    restarted = as_installed(cfg)
    assert (restarted.idcard.port, restarted.idcard.baudrate) == (str(dev / "ttyUSB0"), 115200)
    assert restarted.scanner.port == cfg.scanner.port  # only what was placed moves

    async def after_restart() -> None:
        terminal = terminal_for(restarted)
        try:
            reader.insert(sample_cards()[0])
            assert (await identify(terminal)).id_number == sample_cards()[0].id_number
        finally:
            terminal.close()

    asyncio.run(after_restart())


def test_the_scanner_found_by_a_scan_reads_the_next_code(machine):
    cfg, dev, _, scanner = machine

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            waiting, _ = await listening(terminal, 0.8)
            scanner.scan("any code at all")
            heard = await asyncio.wait_for(waiting, 15)
            assert heard is not None and heard.port == str(dev / "ttyACM0")
            await terminal.place_device("scanner", heard.port, heard.baudrate)
            (health,) = [h for h in await terminal.device_health() if h.device == "scanner"]
            assert health.ok, health  # its port opened, not "not opened yet"
            scanner.scan("https://zwfw.example.gov.cn/track/AF2026120800001")
            assert await terminal.read_code(3) == "https://zwfw.example.gov.cn/track/AF2026120800001"
        finally:
            terminal.close()

    asyncio.run(run())


def test_no_device_is_moved_while_citizens_use_the_terminal(machine):
    cfg, dev, *_ = machine

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            with pytest.raises(DeviceError) as err:
                await terminal.place_device("idcard", str(dev / "ttyUSB0"), 115200)
            assert err.value.message_key == "technician.not_servicing"
            assert terminal.config.idcard.port == cfg.idcard.port
        finally:
            terminal.close()

    asyncio.run(run())
    assert load_placements(cfg.data_dir) == {}


def test_a_choice_that_cannot_be_kept_changes_nothing(machine, tmp_path):
    cfg, dev, *_ = machine
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    cfg = replace(cfg, data_dir=str(blocked / "kiosk"))  # its folder cannot be made

    async def run() -> None:
        terminal = terminal_for(cfg)
        old = terminal.ports.id_reader
        try:
            terminal.begin_service()
            with pytest.raises(DeviceError) as err:
                await terminal.place_device("idcard", str(dev / "ttyUSB0"), 115200)
            assert err.value.message_key == "technician.ports_not_kept"
            assert terminal.ports.id_reader is old
            assert terminal.config.idcard.port == cfg.idcard.port
        finally:
            terminal.close()

    asyncio.run(run())


def test_cameras_plugged_into_each_others_hub_ports_are_seen_and_swapped(machine, tmp_path):
    from pathlib import Path

    from peripherals.camera.sample import write_document_photo
    from peripherals.rig_parts import SHARED_FACES

    cfg, *_ = machine
    desk, person = tmp_path / "desk.png", tmp_path / "person.jpg"
    write_document_photo(desk)  # what the document camera looks down on: a page on the desk
    person.write_bytes(Path(SHARED_FACES / "obama.jpg").read_bytes())  # a technician before it
    # Given the cables swapped on the hub: the "document camera" is the one facing the person
    cfg = replace(cfg, camera=CameraConfig(document=f"file://{person}", face=f"file://{desk}"))

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            # What each shows is not what it is for: no page for one, no face for the other
            before = {v.device: v for v in await terminal.camera_views()}
            assert {d: v.sees for d, v in before.items()} == {"document_camera": "",
                                                              "face_camera": ""}  # fmt: skip
            assert all(v.preview is not None and v.preview.width > 0 for v in before.values())
            terminal.begin_service()
            await terminal.swap_cameras()
            after = {v.device: v for v in await terminal.camera_views()}
            assert {d: v.sees for d, v in after.items()} == {"document_camera": "page",
                                                             "face_camera": "face"}  # fmt: skip
            assert after["face_camera"].source == f"file://{person}"
            # the face check now takes its photo from the camera facing the person
            photo = await asyncio.to_thread(terminal.ports.face_camera.capture)
            assert photo.media_type == "image/jpeg" and photo.width > 0
        finally:
            terminal.close()

    asyncio.run(run())
    restarted = as_installed(cfg)
    assert (restarted.camera.document, restarted.camera.face) == (f"file://{desk}", f"file://{person}")


def test_a_kiosk_without_both_cameras_has_nothing_to_swap(machine):
    cfg, *_ = machine  # no cameras at all

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            assert await terminal.camera_views() == []
            terminal.begin_service()
            with pytest.raises(DeviceError) as err:
                await terminal.swap_cameras()
            assert err.value.message_key == "technician.no_cameras"
        finally:
            terminal.close()

    asyncio.run(run())
    assert load_placements(cfg.data_dir) == {}


def test_a_58_mm_roll_set_on_the_screen_gets_receipts_laid_out_for_it(machine, tmp_path):
    from kiosk import selftest
    from kiosk.config import china_time
    from peripherals.printer.emulator import PrinterEmulator

    cfg, *_ = machine
    printer = PrinterEmulator(paper_mm=58)  # a 58 mm printer, the config file saying 80
    cfg = replace(cfg, printer=PrinterConfig(connection=f"tcp://127.0.0.1:{printer.start()}",
                                             paper_mm=80))  # fmt: skip

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            terminal.begin_service()
            await terminal.set_paper(58)
            await terminal.print_receipt(selftest.test_page(terminal, china_time()))
        finally:
            terminal.close()

    try:
        asyncio.run(run())
        assert printer.wait_for_jobs(1, 5)
        page = printer.text()
        # laid out for 58 mm: its rule 32 columns across (48 on 80 mm), no line longer
        assert "-" * 32 in page and "-" * 33 not in "".join(page), page
        assert max(len(line.encode("gbk", "replace")) for line in page) <= 32
    finally:
        printer.stop()
    assert as_installed(cfg).printer.paper_mm == 58  # and at the next start


def test_paper_set_with_no_printer_is_refused(machine):
    cfg, *_ = machine  # its printer switched off

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            terminal.begin_service()
            with pytest.raises(DeviceError) as err:
                await terminal.set_paper(58)
            assert err.value.message_key == "technician.no_printer"
        finally:
            terminal.close()

    asyncio.run(run())


def test_a_scanner_that_types_is_heard_in_the_keys_and_switched_to(machine):
    from kiosk.devices import WEDGE

    cfg, *_ = machine

    async def run() -> None:
        terminal = terminal_for(cfg)
        try:
            waiting, stop = await listening(terminal, 0.5)
            # the window hands its keys to the terminal's key sink (screens/app.py): a USB
            # scanner types a code and Enter, a few ms a key
            assert terminal.key_sink is not None
            now = time.monotonic()
            for i, char in enumerate("AF2026120800001\r"):
                terminal.key_sink.feed_key(char, now + i * 0.004)
            heard = await asyncio.wait_for(waiting, 5)
            assert (heard.port, heard.found) == (WEDGE, "scanner")
            assert terminal.key_sink is None and stop.is_set()  # the serial ports let go
            await terminal.place_device("scanner", heard.port, heard.baudrate)
            assert terminal.config.scanner.driver == "wedge"
            # the next code typed reaches the terminal through its (new) keyboard scanner
            now = time.monotonic()
            for i, char in enumerate("https://zwfw.example.gov.cn/track/AF1\r"):
                terminal.ports.scanner.feed_key(char, now + i * 0.004)
            assert await terminal.read_code(1) == "https://zwfw.example.gov.cn/track/AF1"
        finally:
            terminal.close()

    asyncio.run(run())
    assert as_installed(cfg).scanner.driver == "wedge"
