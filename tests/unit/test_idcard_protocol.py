"""GA 467 SAM frame codec: exact frames from the reference, status codes, fuzzing.

Frames are those listed in /work/shared/reference/devices.md §1.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import CardError, DeviceError, NoCard
from peripherals.idcard import protocol as p

PRE = "AA AA AA 96 69 "


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    ("cmd", "data", "frame"),
    [
        (p.RESET_SAM, b"", PRE + "00 03 10 FF EC"),
        (p.SAM_STATUS, b"", PRE + "00 03 11 FF ED"),
        (p.READ_SAM_ID, b"", PRE + "00 03 12 FF EE"),
        (p.FIND_CARD, b"", PRE + "00 03 20 01 22"),
        (p.SELECT_CARD, b"", PRE + "00 03 20 02 21"),
        (p.READ_TEXT_PHOTO, b"", PRE + "00 03 30 01 32"),
        (p.READ_TEXT_PHOTO_FINGERPRINT, b"", PRE + "00 03 30 10 23"),
        (p.READ_NEWEST_ADDRESS, b"", PRE + "00 03 30 03 30"),
        ((p.SET_BAUDRATE, 0x00), b"", PRE + "00 03 60 00 63"),
        (p.SET_MAX_RF_FRAME, b"\x50", PRE + "00 04 61 FF 50 CA"),
    ],
)
def test_request_frames_match_the_reference_byte_for_byte(cmd, data, frame):
    # Given a command from the reference table / When it is built / Then the bytes are identical
    assert p.build_request(*cmd, data) == hx(frame)


@pytest.mark.parametrize(
    ("frame", "sw3", "data"),
    [
        (PRE + "00 08 00 00 9F 00 00 00 00 97", 0x9F, bytes(4)),
        (PRE + "00 0C 00 00 90" + " 00" * 8 + " 9C", 0x90, bytes(8)),
        (PRE + "00 04 00 00 80 84", 0x80, b""),
        (PRE + "00 04 00 00 41 45", 0x41, b""),
    ],
)
def test_sample_replies_from_the_reference_parse_to_their_status(frame, sw3, data):
    # Given a recorded reply / When fed to the parser / Then one response with that status
    [reply] = p.FrameParser().feed(hx(frame))
    assert (reply.sw1, reply.sw2, reply.sw3, reply.data) == (0, 0, sw3, data)
    assert p.build_response(sw3, data) == hx(frame)


def test_a_reply_split_into_single_bytes_is_reassembled():
    frame = p.build_response(0x90, bytes(range(256)) * 4)
    parser = p.FrameParser()
    got = []
    for i in range(len(frame)):
        assert parser.needed() >= 1
        got += parser.feed(frame[i : i + 1])
    assert got == [p.Response(0, 0, 0x90, bytes(range(256)) * 4)]
    assert parser.pending == 0


def test_needed_asks_for_the_header_then_exactly_the_rest():
    # Given the 7-byte header of a 15-byte frame / Then 8 more bytes are needed
    parser = p.FrameParser()
    assert parser.needed() == 7
    parser.feed(hx(PRE + "00 08"))
    assert parser.needed() == 8


def test_garbage_before_a_frame_is_skipped_and_the_frame_still_read():
    garbage = hx("00 FF AA AA 96 13 11 AA AA")  # includes a broken preamble
    frame = hx(PRE + "00 04 00 00 80 84")
    assert p.FrameParser().feed(garbage + frame) == [p.Response(0, 0, 0x80)]


def test_a_bad_checksum_is_a_frame_error_and_the_next_frame_still_parses():
    parser = p.FrameParser()
    bad = hx(PRE + "00 04 00 00 80 85")
    good = hx(PRE + "00 04 00 00 41 45")
    with pytest.raises(p.FrameError, match="checksum") as caught:
        parser.feed(bad)
    assert caught.value.kind == "checksum"
    assert isinstance(caught.value, DeviceError)
    assert parser.feed(good) == [p.Response(0, 0, 0x41)]


def test_an_impossible_length_is_a_frame_error_of_kind_length():
    with pytest.raises(p.FrameError, match="length") as caught:
        p.FrameParser().feed(hx(PRE + "FF 08 00 00 9F"))
    assert caught.value.kind == "length"


def test_good_frames_before_a_bad_one_are_returned_and_the_bad_one_reported_next():
    good = p.build_response(0x90)
    bad = bytearray(p.build_response(0x90))
    bad[-1] ^= 1
    parser = p.FrameParser()
    assert parser.feed(good + bytes(bad)) == [p.Response(0, 0, 0x90)]
    with pytest.raises(p.FrameError):
        parser.feed(b"")


def test_request_parser_reads_what_a_host_sends():
    frames = p.build_request(*p.FIND_CARD) + p.build_request(*p.SET_MAX_RF_FRAME, b"\x50")
    assert p.RequestParser().feed(frames) == [
        p.Request(0x20, 0x01),
        p.Request(0x61, 0xFF, b"\x50"),
    ]


REFERENCE_CODES = [0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33]
REFERENCE_CODES += [0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81]


@pytest.mark.parametrize("sw3", REFERENCE_CODES)
def test_every_reference_status_code_has_a_meaning(sw3):
    assert p.status(sw3).meaning and "unknown" not in p.status(sw3).meaning


@pytest.mark.parametrize(
    ("sw3", "error"),
    [
        (0x80, NoCard),
        (0x41, CardError),
        (0x81, CardError),
        (0x31, CardError),
        (0x40, CardError),
        (0x60, DeviceError),
        (0x66, DeviceError),
        (0x10, DeviceError),
        (0x21, DeviceError),
        (0x77, DeviceError),  # not in any table
    ],
)
def test_a_failing_status_raises_the_kiosk_error_for_it(sw3, error):
    with pytest.raises(error) as caught:
        p.Response(0, 0, sw3).check()
    assert f"0x{sw3:02X}" in caught.value.detail
    # a card problem must not be mistaken for a missing card, nor a SAM fault for a card problem
    assert type(caught.value) is error


def test_success_codes_pass_only_where_expected():
    assert p.Response(0, 0, 0x9F).check(p.SW_FOUND).sw3 == 0x9F
    with pytest.raises(DeviceError):
        p.Response(0, 0, 0x9F).check()  # "found" is not an answer to a read


def test_read_reply_lengths_split_text_and_photo():
    data = b"\x01\x00\x04\x00" + b"T" * 256 + b"P" * 1024
    assert p.split_lengths(data, 2) == [b"T" * 256, b"P" * 1024]
    with pytest.raises(CardError, match="lengths"):
        p.split_lengths(data[:-1], 2)


def test_a_read_reply_is_1295_bytes_with_text_at_14_and_photo_at_270():
    data = b"\x01\x00\x04\x00" + b"T" * 256 + b"P" * 1024
    frame = p.build_response(0x90, data)
    assert frame[5:7] == b"\x05\x08" and len(frame) == 1295
    assert frame[14:270] == b"T" * 256 and frame[270:1294] == b"P" * 1024


def test_sam_id_is_formatted_as_vendor_tools_print_it():
    raw = bytes.fromhex("05000100dd7a33010b4e0500e1a3ef00")
    assert p.format_sam_id(raw) == "05.01-20151005-000347659-015705057"
    with pytest.raises(DeviceError):
        p.format_sam_id(raw[:10])


# -- fuzzing: random and mutated bytes never crash or hang the parser ------------------

VALID = [
    p.build_response(0x9F, bytes(4)),
    p.build_response(0x90, bytes(8)),
    p.build_response(0x80),
    p.build_response(0x90, b"\x01\x00\x04\x00" + bytes(range(256)) + bytes(1024)),
]


def _drain(parser: p.FrameParser, data: bytes, chunk: int) -> tuple[list, list]:
    """Feed ``data`` in chunks; collect responses and frame errors. Bounded by construction."""
    replies, errors = [], []
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""] * 3
    for piece in pieces:
        try:
            replies += parser.feed(piece)
        except p.FrameError as err:
            errors.append(err)
            assert err.kind in ("checksum", "length") and err.detail
    return replies, errors


@settings(max_examples=300, deadline=500)
@given(data=st.binary(max_size=3000), chunk=st.integers(1, 512))
def test_random_bytes_give_responses_or_clear_frame_errors(data, chunk):
    replies, _ = _drain(p.FrameParser(), data, chunk)
    # Then every response is a well-formed frame that really is in the input: none invented
    for reply in replies:
        assert p.build_response(reply.sw3, reply.data, reply.sw1, reply.sw2) in data


@settings(max_examples=300, deadline=500)
@given(
    frame=st.sampled_from(VALID),
    flips=st.lists(st.tuples(st.integers(0, 1400), st.integers(1, 255)), max_size=4),
    cut=st.integers(0, 1400),
    prefix=st.binary(max_size=20),
    chunk=st.integers(1, 400),
)
def test_mutated_frames_parse_to_the_original_or_raise_a_frame_error(
    frame, flips, cut, prefix, chunk
):
    # Given a valid frame with bytes flipped, truncated and garbage in front
    mutated = bytearray(frame)
    for at, mask in flips:
        if at < len(mutated):
            mutated[at] ^= mask
    mutated = prefix + bytes(mutated[: max(cut, 1)])
    # When parsed (followed by a clean frame), Then nothing crashes, and the clean frame
    # is recovered unless the mutated frame's declared length swallowed it
    stream = mutated + VALID[2]
    replies, _ = _drain(p.FrameParser(), stream, chunk)
    original = p.FrameParser().feed(frame)[0]
    for reply in replies:
        assert p.build_response(reply.sw3, reply.data, reply.sw1, reply.sw2) in stream
    if not flips and cut >= len(frame) and p.PREAMBLE not in prefix:
        assert replies[-2:] == [original, p.Response(0, 0, 0x80)]
