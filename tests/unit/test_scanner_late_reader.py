"""A code is not cut in two because the scanner's reading thread was late: only a line
seen quiet ends a frame (an electronic ID code is ~180 bytes, 0.2 s at 9600 baud)."""

from peripherals.scanner.framing import ScanFramer


def test_bytes_that_waited_for_a_busy_reader_continue_the_code():
    framer = ScanFramer(idle_timeout=0.25)
    assert framer.feed(b"EID1.first-part-", now=0.0) == []
    # the rest was in the OS buffer all along; the reader got to it 0.4 s later
    assert framer.feed(b"and-the-rest\r\n", now=0.4, gap_seen=False) == [
        "EID1.first-part-and-the-rest"
    ]


def test_a_line_seen_quiet_still_ends_a_code_without_terminator():
    framer = ScanFramer(idle_timeout=0.25)
    framer.feed(b"FIRST", now=0.0)
    assert framer.feed(b"SECOND\r", now=0.5, gap_seen=True) == ["FIRST", "SECOND"]
