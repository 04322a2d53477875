"""Which names the technician reads for a port, and the rates each device is asked at."""

from __future__ import annotations

import os
import stat

import pytest

from peripherals.discovery import _rank, _rates, _tty


def test_the_configured_rate_is_asked_first_then_the_usual_ones_once_each():
    assert _rates("printer", {"printer": 19200}) == [19200, 9600, 38400, 115200]
    assert _rates("printer", {"printer": 57600}) == [57600, 9600, 19200, 38400, 115200]
    assert _rates("idcard", {}) == [115200, 9600]
    assert _rates("idcard", {"idcard": 115200}) == [115200, 9600]


def test_a_udev_name_is_read_before_a_stable_link_before_the_kernels_name():
    names = ["/dev/ttyUSB0", "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0", "/dev/kiosk-idcard"]
    assert sorted(names, key=_rank) == [
        "/dev/kiosk-idcard", "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0", "/dev/ttyUSB0"]


def test_only_serial_lines_are_serial_ports(tmp_path):
    plain = tmp_path / "ttyUSB0"
    plain.write_text("")
    assert not _tty(str(plain))  # a file named like a port
    assert not _tty("/dev/null")  # a character device that is no tty
    assert not _tty(str(tmp_path / "gone"))


def test_a_virtual_console_is_not_a_serial_port_and_a_uart_is(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("making device nodes takes root")
    console, uart = tmp_path / "tty3", tmp_path / "ttyS4"
    os.mknod(console, stat.S_IFCHR | 0o600, os.makedev(4, 3))
    os.mknod(uart, stat.S_IFCHR | 0o600, os.makedev(4, 68))
    assert not _tty(str(console))
    assert _tty(str(uart))
