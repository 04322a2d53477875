"""The scanner framer and the keyboard-wedge burst detector: pure logic, fed bytes and keys."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from peripherals.scanner.driver import KeyboardWedgeScanner
from peripherals.scanner.framing import ScanFramer

URL = "https://zwfw.example.gov.cn/track/AF2026112300001"


def test_cr_lf_and_crlf_each_end_one_code():
    framer = ScanFramer()
    codes = framer.feed(f"{URL}\rA1\nB2\r\nC3\r\n".encode(), now=0.0)
    assert codes == [URL, "A1", "B2", "C3"]


def test_crlf_split_across_reads_gives_one_code_and_no_empty_one():
    framer = ScanFramer()
    assert framer.feed(b"AF2026\r", now=0.0) == ["AF2026"]
    assert framer.feed(b"\nNEXT\r", now=0.01) == ["NEXT"]


def test_code_arriving_in_pieces_is_joined():
    framer = ScanFramer()
    assert framer.feed(b"AF20", 0.0) == []
    assert framer.feed(b"2611", 0.01) == []
    assert framer.feed(b"23\r\n", 0.02) == ["AF20261123"]


def test_code_without_terminator_ends_after_idle_gap():
    framer = ScanFramer(idle_timeout=0.2)
    assert framer.feed(b"NOTERM", now=1.0) == []
    assert framer.flush(now=1.1) == []
    assert framer.flush(now=1.25) == ["NOTERM"]
    assert framer.flush(now=2.0) == []


def test_late_bytes_start_a_new_code_after_idle_gap():
    framer = ScanFramer(idle_timeout=0.2)
    framer.feed(b"FIRST", now=0.0)
    assert framer.feed(b"SECOND\r", now=0.5) == ["FIRST", "SECOND"]


def test_gbk_payload_is_decoded_when_not_utf8():
    framer = ScanFramer()
    assert framer.feed("受理编号AF001\r".encode("gbk"), 0.0) == ["受理编号AF001"]
    assert framer.feed("受理编号AF001\r".encode(), 0.1) == ["受理编号AF001"]


def test_blank_lines_are_ignored():
    assert ScanFramer().feed(b"\r\n\r\n\n\r", 0.0) == []


def test_over_long_code_is_dropped_with_reason_and_next_code_still_read():
    framer = ScanFramer(max_frame=16)
    codes = framer.feed(b"X" * 40 + b"\r\nOK\r\n", 0.0)
    assert codes == ["OK"]
    assert framer.dropped_total == 1
    assert framer.last_dropped.reason == "too_long"
    assert framer.last_dropped.length == 40


def test_code_exactly_at_the_limit_is_kept():
    assert ScanFramer(max_frame=16).feed(b"Y" * 16 + b"\r", 0.0) == ["Y" * 16]


def test_garbage_that_is_neither_utf8_nor_gbk_is_dropped():
    framer = ScanFramer()
    assert framer.feed(b"\xff\xff\xff\r", 0.0) == []
    assert framer.last_dropped.reason == "undecodable"


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(
        st.tuples(st.binary(max_size=64), st.floats(min_value=0, max_value=0.5)), max_size=30
    ),
    max_frame=st.integers(min_value=1, max_value=64),
)
def test_fuzz_framer_never_crashes_nor_returns_line_breaks(chunks, max_frame):
    framer = ScanFramer(max_frame=max_frame, idle_timeout=0.2)
    now = 0.0
    codes: list[str] = []
    for data, gap in chunks:
        now += gap
        codes += framer.feed(data, now)
    codes += framer.flush(now + 1.0)
    for code in codes:
        assert code
        assert "\r" not in code and "\n" not in code
        assert len(code.encode("utf-8")) <= max_frame * 2  # GBK bytes widen at most x1.5
    assert not framer.pending()


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
            min_size=1,
            max_size=40,
        ),
        max_size=8,
    ),
    terminator=st.sampled_from(["\r", "\n", "\r\n"]),
    split=st.integers(min_value=1, max_value=7),
)
def test_fuzz_any_utf8_codes_come_back_unchanged_however_split(payloads, terminator, split):
    wire = "".join(p + terminator for p in payloads).encode("utf-8")
    framer = ScanFramer()
    codes: list[str] = []
    for i in range(0, len(wire), split):
        codes += framer.feed(wire[i : i + split], now=i * 1e-4)
    assert codes == payloads


def _type(wedge: KeyboardWedgeScanner, text: str, start: float, gap: float):
    result = None
    for i, ch in enumerate(text):
        result = wedge.feed_key(ch, start + i * gap)
    return result


def test_wedge_fast_burst_ending_in_enter_is_a_scan():
    wedge = KeyboardWedgeScanner()
    assert _type(wedge, "AF2026112300001\r", start=10.0, gap=0.008) == "AF2026112300001"
    assert wedge.read_code(0.1) == "AF2026112300001"


def test_wedge_human_typing_is_not_a_scan():
    wedge = KeyboardWedgeScanner()
    assert _type(wedge, "123456\r", start=0.0, gap=0.18) is None
    assert wedge.read_code(0.01) is None


def test_wedge_scan_right_after_human_keys_keeps_only_the_burst():
    wedge = KeyboardWedgeScanner()
    _type(wedge, "ab", start=0.0, gap=0.3)
    assert _type(wedge, "CODE9876\n", start=1.0, gap=0.01) == "CODE9876"


def test_wedge_too_short_burst_is_not_a_scan():
    wedge = KeyboardWedgeScanner(min_length=4)
    assert _type(wedge, "ab\r", start=0.0, gap=0.01) is None
