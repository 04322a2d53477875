"""Social-security card APDUs and data layout: pure bytes, no pcscd."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import CardError
from kiosk.identity import Gender, SocialSecurityCard
from peripherals.sscard import apdu
from peripherals.sscard.emulator import CardLogic, sample_card


def image_records(image: apdu.SocialCardImage) -> list[bytes]:
    return [image.records[key] for key in sorted(image.records)]


def test_commands_are_the_bytes_of_the_card_specification():
    # Given the command builders / When built / Then byte-exact with devices.md §3
    assert apdu.select_aid() == bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
    assert apdu.select_ef(apdu.EF05) == bytes.fromhex("00A4000002EF05")
    assert apdu.select_ef(apdu.EF06) == bytes.fromhex("00A4000002EF06")
    assert apdu.read_record(2) == bytes.fromhex("00B2020400")
    assert apdu.read_record(1, sfi=5, le=0x14) == bytes.fromhex("00B2012C14")
    assert apdu.read_record(7, sfi=6) == bytes.fromhex("00B2073400")
    assert apdu.get_response(0x13) == bytes.fromhex("00C0000013")


def test_card_image_read_back_gives_the_same_holder():
    # Given the sample holder laid out as EF05/EF06 records
    card = sample_card()
    image = apdu.SocialCardImage.from_card(card)
    # When the records are parsed as the driver would
    parsed = apdu.parse_holder(image_records(image))
    # Then every field survives, and the name is GBK padded with 00 on the card
    assert parsed == card
    assert image.record(apdu.EF06, 2) == b"\x09\x1e" + "李秀英".encode("gbk").ljust(30, b"\0")
    assert image.record(apdu.EF06, 7) == bytes.fromhex("0D0419580312")


def test_a_name_longer_than_thirty_bytes_continues_in_the_extension_item():
    # Given a 17-character name (34 GBK bytes: more than the 30-byte name item)
    card = dataclasses.replace(sample_card(), name="阿卜杜热合曼·买买提依明托合提巴克")
    # When laid out and read back / Then the whole name comes back
    assert apdu.parse_holder(image_records(apdu.SocialCardImage.from_card(card))).name == card.name


def test_records_are_found_by_tag_whatever_their_order():
    records = image_records(apdu.SocialCardImage.from_card(sample_card()))
    assert apdu.parse_holder(reversed(records)) == sample_card()


def test_tlv_reads_short_and_long_lengths_and_stops_at_padding():
    data = bytes.fromhex("0102AABB") + apdu.encode_tlv(0x09, b"x" * 200) + b"\x00\x00"
    assert apdu.parse_tlv(data) == [(0x01, b"\xaa\xbb"), (0x09, b"x" * 200)]


@pytest.mark.parametrize("raw", ["0105AABB", "01", "0181", "0185000000"])
def test_truncated_tlv_is_a_card_error(raw):
    with pytest.raises(CardError, match="TLV tag 01"):
        apdu.parse_tlv(bytes.fromhex(raw))


def test_bcd_dates_round_trip_and_unset_dates_read_as_none():
    assert apdu.encode_bcd_date(dt.date(2029, 6, 11)) == bytes.fromhex("20290611")
    assert apdu.decode_bcd_date(bytes.fromhex("19580312")) == dt.date(1958, 3, 12)
    assert apdu.decode_bcd_date(b"\xff" * 4) is None
    assert apdu.decode_bcd_date(b"\x00" * 4) is None


@pytest.mark.parametrize("raw", ["19581312", "1958031F", "1A580312", "19F80312"])
def test_a_bcd_date_that_is_not_a_date_is_a_card_error(raw):
    with pytest.raises(CardError, match="BCD"):
        apdu.decode_bcd_date(bytes.fromhex(raw))


def test_status_words_are_explained_for_a_technician():
    assert apdu.sw_meaning(0x6A82) == "6A82 file or application not found"
    assert apdu.sw_meaning(0x6982).startswith("6982 security status not satisfied")
    assert apdu.sw_meaning(0x6113) == "6113 19 more bytes available (GET RESPONSE)"
    assert apdu.sw_meaning(0x6C1E) == "6C1E wrong Le, exact length is 30"
    assert apdu.sw_meaning(0x6D00) == "6D00 instruction not supported"
    assert apdu.sw_meaning(0x6E00) == "6E00 class not supported"


def test_a_response_without_status_word_is_a_card_error():
    with pytest.raises(CardError, match="without status word"):
        apdu.Response.parse(b"\x90")


def test_a_card_without_social_security_number_is_a_card_error():
    records = [apdu.encode_tlv(0x09, "李秀英".encode("gbk"))]
    with pytest.raises(CardError, match="social security number"):
        apdu.parse_holder(records)


# -------------------------------------------------------------- the card's dialogue


def test_card_answers_select_with_61xx_then_the_fci_on_get_response():
    # Given a fresh card / When the application is selected
    logic = CardLogic(apdu.SocialCardImage.from_card(sample_card()))
    first = logic.answer(apdu.select_aid())
    # Then (T=0) it announces the FCI, which GET RESPONSE returns with 9000
    assert first == b"\x61\x13"
    assert logic.answer(apdu.get_response(0x13)) == logic.image.fci + b"\x90\x00"


def test_card_refuses_files_before_the_application_is_selected():
    logic = CardLogic(apdu.SocialCardImage.from_card(sample_card()))
    assert logic.answer(apdu.select_ef(apdu.EF06)) == b"\x6a\x82"
    assert logic.answer(apdu.read_record(1)) == b"\x69\x86"


def test_card_reads_by_sfi_and_corrects_a_wrong_le_with_6cxx():
    logic = CardLogic(apdu.SocialCardImage.from_card(sample_card()))
    logic.answer(apdu.select_aid())
    assert logic.answer(apdu.read_record(1, sfi=6, le=5)) == b"\x6c\x14"
    assert logic.answer(apdu.read_record(1, sfi=6, le=0x14)) == (
        b"\x08\x12362424195803120022\x90\x00"
    )
    assert logic.answer(bytes.fromhex("80CA000000")) == b"\x6e\x00"
    assert logic.answer(bytes.fromhex("00DA000000")) == b"\x6d\x00"


# -------------------------------------------------------------- fuzz: no crash, clear error


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_tlv_parser_never_crashes(data):
    try:
        items = apdu.parse_tlv(data)
    except CardError as err:
        assert err.detail
    else:
        assert all(isinstance(value, bytes) for _, value in items)


tlv_items = st.tuples(st.sampled_from(sorted(apdu.ITEMS_BY_TAG)), st.binary(max_size=32)).map(
    lambda item: apdu.encode_tlv(*item)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(tlv_items, st.binary(max_size=40)), max_size=14))
def test_holder_parser_returns_a_card_or_a_card_error(records):
    try:
        card = apdu.parse_holder(records)
    except CardError as err:
        assert err.detail
    else:
        assert isinstance(card, SocialSecurityCard) and card.name


gbk_names = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=25
).filter(lambda name: _gbk_ok(name))


def _gbk_ok(text: str) -> bool:
    try:
        return len(text.encode("gbk")) <= 50
    except UnicodeEncodeError:
        return False


@settings(max_examples=100, deadline=None)
@given(
    name=gbk_names,
    gender=st.sampled_from(list(Gender)),
    birth=st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
    number=st.from_regex(r"\A[0-9]{17}[0-9X]\Z"),
)
def test_any_holder_survives_the_card_layout(name, gender, birth, number):
    card = dataclasses.replace(
        sample_card(), name=name, gender=gender, birth_date=birth, ss_number=number
    )
    assert apdu.parse_holder(image_records(apdu.SocialCardImage.from_card(card))) == card
