"""Which names the technician reads for a port, and the rates each device is asked at."""

from __future__ import annotations

from peripherals.discovery import _rank, _rates, _tty, serial_line


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


def test_a_virtual_console_or_a_camera_is_not_a_serial_port_and_a_uart_is():
    assert not serial_line(4, 3, "tty")  # tty3, a virtual console
    assert serial_line(4, 68, "tty")  # ttyS4
    assert serial_line(188, 0, "tty") and serial_line(166, 1, "tty")  # ttyUSB0, ttyACM1
    assert serial_line(136, 7, "")  # a pty (ptys are not in sysfs)
    assert serial_line(240, 0, "tty")  # a driver with a major of its own
    assert not serial_line(5, 0, "tty")  # /dev/tty itself
    assert not serial_line(81, 0, "video4linux")  # a camera
