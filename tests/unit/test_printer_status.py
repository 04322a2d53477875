"""DLE EOT replies → PrinterStatus, with the values real printers send (devices.md §4)."""

from __future__ import annotations

import pytest

from kiosk.errors import PrinterError
from kiosk.ports import PrinterStatus
from peripherals.printer.status import QUERY, StatusGarbled, check, decode, parse

IDLE = 0x12


@pytest.mark.parametrize(
    ("s1", "s2", "s4", "expected"),
    [
        (0x12, 0x12, 0x12, PrinterStatus.OK),
        (0x12, 0x12, 0x1E, PrinterStatus.PAPER_NEAR_END),
        (0x1A, 0x32, 0x72, PrinterStatus.PAPER_OUT),
        (0x1A, 0x32, 0x7E, PrinterStatus.PAPER_OUT),
        (0x1A, 0x12, 0x12, PrinterStatus.OFFLINE),
        (0x1A, 0x16, 0x12, PrinterStatus.COVER_OPEN),
        (0x1A, 0x52, 0x12, PrinterStatus.ERROR),
    ],
)
def test_status_bytes_map_to_the_status_the_kiosk_acts_on(s1, s2, s4, expected):
    assert parse({1: bytes([s1]), 2: bytes([s2]), 4: bytes([s4])}).status is expected


def test_cover_open_wins_over_the_paper_out_it_causes():
    # Given the cover is open and the paper sensor reads empty
    report = decode(0x1A, 0x16 | 0x20, 0x72)
    # Then the technician is told to close the cover first
    assert report.status is PrinterStatus.COVER_OPEN
    assert report.paper_out and report.offline


def test_reason_tells_the_technician_what_to_do_and_shows_the_codes():
    reason = decode(0x1A, 0x32, 0x72).reason
    assert "paper out" in reason and "1A 32 72" in reason


@pytest.mark.parametrize("reply", [b"", b"\x12\x12", b"\x00", b"\xff", b"\x13", b"\x92", b"A"])
def test_garbage_reply_is_a_clear_printer_error(reply):
    with pytest.raises(StatusGarbled) as err:
        check(4, reply)
    assert isinstance(err.value, PrinterError)
    assert "DLE EOT 4" in err.value.detail


def test_a_missing_reply_is_refused():
    with pytest.raises(StatusGarbled):
        parse({1: b"\x12", 4: b"\x12"})


def test_queries_are_dle_eot_n():
    assert QUERY[1] == b"\x10\x04\x01" and QUERY[4] == b"\x10\x04\x04"


def test_every_valid_status_byte_decodes_without_error():
    valid = [b for b in range(256) if b & 0x93 == IDLE]
    assert len(valid) == 16
    for b in valid:
        assert isinstance(decode(b, b, b).status, PrinterStatus)
