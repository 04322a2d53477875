"""The serial scanner driver against the emulator over a real pty pair."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from kiosk.errors import DeviceError
from kiosk.health import HealthState
from peripherals.scanner.driver import SerialCodeScanner
from peripherals.scanner.emulator import ScannerEmulator
from peripherals.supervisor import read_line, stop_process

pytestmark = pytest.mark.integration

RECEIPT_QR = "https://zwfw.example.gov.cn/track/AF2026112300001"


@pytest.fixture
def emulator():
    emu = ScannerEmulator(baudrate=9600)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def scanner(emulator):
    driver = SerialCodeScanner(emulator.path, baudrate=9600, reconnect_interval=0.1)
    assert driver.read_code(0.05) is None  # opens the port before anything is scanned
    yield driver
    driver.close()


def wait_until_back(driver: SerialCodeScanner, timeout: float = 5.0) -> None:
    """Poll as the kiosk's scanner worker does until the port is open again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            driver.read_code(0.05)
        except DeviceError:
            time.sleep(0.05)
            continue
        if driver.health().ok:
            return
    raise AssertionError(f"scanner did not come back: {driver.health()}")


@pytest.mark.parametrize("terminator", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_receipt_qr_scanned_is_read_whatever_the_terminator(emulator, scanner, terminator):
    # Given a scanner idle on its port
    # When a citizen scans the receipt's QR code
    emulator.scan(RECEIPT_QR, terminator=terminator)
    # Then the driver returns exactly the tracking URL, and the device is healthy
    assert scanner.read_code(2.0) == RECEIPT_QR
    assert scanner.health().state is HealthState.OK


def test_gbk_payload_from_an_older_scanner_is_decoded(emulator, scanner):
    emulator.scan("受理编号：AF2026112300001", encoding="gbk")
    assert scanner.read_code(2.0) == "受理编号：AF2026112300001"


def test_code_without_terminator_ends_on_idle(emulator, scanner):
    emulator.scan("AF2026112300002", terminator="")
    assert scanner.read_code(2.0) == "AF2026112300002"


def test_two_quick_scans_come_back_in_order(emulator, scanner):
    emulator.scan("FIRST001")
    emulator.scan("SECOND02")
    assert scanner.read_code(2.0) == "FIRST001"
    assert scanner.read_code(2.0) == "SECOND02"


def test_nothing_scanned_returns_none_after_timeout(scanner):
    started = time.monotonic()
    assert scanner.read_code(0.3) is None
    assert 0.25 <= time.monotonic() - started < 1.0


def test_garbled_bytes_degrade_health_with_a_hint_then_recover(emulator, scanner):
    # Given a scanner set to the wrong baud rate sends bytes that decode as nothing
    emulator.send(b"\xff\xfe\xff\r\n")
    assert scanner.read_code(0.5) is None
    # Then a technician is told what to check
    health = scanner.health()
    assert health.state is HealthState.DEGRADED
    assert "9600 8N1" in health.reason
    # And a good scan clears it
    emulator.scan("AF2026112300003")
    assert scanner.read_code(2.0) == "AF2026112300003"
    assert scanner.health().ok


def test_unplugged_scanner_reports_fault_and_reads_again_after_replug(emulator, scanner):
    # Given a working scanner
    emulator.scan("BEFORE01")
    assert scanner.read_code(2.0) == "BEFORE01"
    # When its cable is pulled
    emulator.unplug()
    with pytest.raises(DeviceError) as caught:
        scanner.read_code(1.0)
    # Then the fault says which port, in words a technician understands
    health = scanner.health()
    assert health.state is HealthState.FAULT
    assert emulator.path in health.reason
    assert caught.value.message_key == "error.scanner"
    # When it is plugged back in, the driver reopens the port by itself
    emulator.replug()
    wait_until_back(scanner)
    emulator.scan(RECEIPT_QR)
    assert scanner.read_code(2.0) == RECEIPT_QR
    assert scanner.health().ok


def test_missing_port_is_a_fault_naming_the_port(tmp_path):
    missing = str(tmp_path / "ttyUSB9")
    driver = SerialCodeScanner(missing)
    try:
        with pytest.raises(DeviceError):
            driver.read_code(0.2)
        health = driver.health()
        assert health.state is HealthState.FAULT
        assert "ttyUSB9" in health.reason
    finally:
        driver.close()


def test_emulator_runs_standalone_and_scans_stdin_lines():
    proc = subprocess.Popen(
        [sys.executable, "-m", "peripherals.scanner.emulator"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        path = read_line(proc.stdout, 10.0, "scanner emulator")
        driver = SerialCodeScanner(path)
        try:
            assert driver.read_code(0.05) is None
            proc.stdin.write(RECEIPT_QR.encode() + b"\n")
            proc.stdin.flush()
            assert driver.read_code(5.0) == RECEIPT_QR
        finally:
            driver.close()
    finally:
        proc.stdin.close()  # end of input: the emulator stops by itself
        stop_process(proc)


def test_close_from_another_thread_ends_a_long_wait_quickly(scanner):
    result = []
    reader = threading.Thread(target=lambda: result.append(scanner.read_code(30.0)))
    reader.start()
    time.sleep(0.1)
    started = time.monotonic()
    scanner.close()
    reader.join(timeout=2.0)
    assert not reader.is_alive()
    assert result == [None]
    assert time.monotonic() - started < 1.0
