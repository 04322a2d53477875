"""The ID card's 256-byte text block: every layout, long-term validity, fuzzing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from kiosk.errors import CardError
from kiosk.identity import CardType, Gender
from kiosk.nations import NATIONS, nation_name
from peripherals.idcard.cards import sample_cards
from peripherals.idcard.text import TEXT_LEN, decode_text, encode_text


def block(fields: dict[int, str], type_code: str = " ") -> bytes:
    """A text block built by hand from byte offsets, as the reference lists them."""
    chars = [" "] * 128
    for at, value in fields.items():
        chars[at // 2 : at // 2 + len(value)] = list(value)
    chars[124] = type_code
    return "".join(chars).encode("utf-16-le")


def test_a_resident_block_built_from_the_reference_offsets_decodes_every_field():
    # Given a block laid out at the reference's byte offsets
    raw = block(
        {
            0: "张伟",
            30: "1",
            32: "01",
            36: "19850312",
            52: "江西省吉安市安福县平都镇城北路28号",
            122: "362425198503121234",
            158: "安福县公安局",
            188: "20160520",
            204: "20360520",
        }
    )
    # When decoded
    card = decode_text(raw, photo=b"WLf")
    # Then every field is where a citizen expects it
    assert (card.name, card.gender, card.nation) == ("张伟", Gender.MALE, "01")
    assert card.birth_date == dt.date(1985, 3, 12)
    assert card.address == "江西省吉安市安福县平都镇城北路28号"
    assert card.id_number == "362425198503121234"
    assert card.authority == "安福县公安局"
    assert (card.valid_from, card.valid_to) == (dt.date(2016, 5, 20), dt.date(2036, 5, 20))
    assert card.card_type is CardType.RESIDENT and card.photo == b"WLf"


def test_a_long_term_card_has_no_end_date_and_never_expires():
    raw = block({0: "雷金凤", 30: "2", 32: "22", 36: "19460618", 188: "20100901", 204: "长期"})
    card = decode_text(raw)
    assert card.valid_to is None
    assert not card.expired(dt.date(2090, 1, 1))


def test_a_2023_foreigner_block_joins_the_two_parts_of_the_english_name():
    english = "WILLIAMSON-HARGREAVES, JONATHAN MICHAEL"
    raw = block(
        {
            0: "威廉姆森·乔纳森",
            30: "1",
            32: "00",
            36: "19880715",
            52: english[:35],
            122: "936840198807150013",
            188: "20231201",
            204: "20331201",
            220: english[35:],
            242: "USA",
        },
        type_code="Y",
    )
    card = decode_text(raw)
    assert card.card_type is CardType.FOREIGNER
    assert card.english_name == english
    assert (card.name, card.nationality, card.id_number) == (
        "威廉姆森·乔纳森",
        "USA",
        "936840198807150013",
    )
    assert card.birth_date == dt.date(1988, 7, 15) and card.nation == "" and card.address == ""


def test_an_old_foreigner_block_reads_the_permit_number_and_chinese_name():
    raw = block(
        {
            0: "SMITH, ANNA",
            120: "2",
            122: "USA110079061502",
            152: "USA",
            158: "安娜",
            188: "20150601",
            204: "20250601",
            220: "19790615",
            236: "01",
            240: "1500",
        },
        type_code="I",
    )
    card = decode_text(raw)
    assert card.card_type is CardType.FOREIGNER_OLD
    assert (card.name, card.english_name, card.id_number) == (
        "安娜",
        "SMITH, ANNA",
        "USA110079061502",
    )
    assert (card.gender, card.nationality, card.authority) == (Gender.FEMALE, "USA", "1500")
    assert card.birth_date == dt.date(1979, 6, 15)


def test_a_residence_permit_block_reads_like_a_resident_card():
    raw = block({0: "陈家明", 30: "1", 36: "19920202", 122: "810000199202023457",
                 188: "20240408", 204: "20290408", 220: "H12345678"}, type_code="J")  # fmt: skip
    card = decode_text(raw)
    assert card.card_type is CardType.HMT_RESIDENCE
    assert (card.name, card.id_number) == ("陈家明", "810000199202023457")


@pytest.mark.parametrize("card", sample_cards(), ids=lambda c: c.card_type.value + c.id_number[-2:])
def test_every_sample_card_survives_encode_then_decode(card):
    raw = encode_text(card)
    assert len(raw) == TEXT_LEN
    back = decode_text(raw, card.photo)
    assert back == card and back.photo == card.photo


def test_sample_resident_cards_carry_valid_gb11643_numbers_and_one_is_expired():
    cards = sample_cards()
    residents = [c for c in cards if c.card_type is CardType.RESIDENT]
    assert all(ric.is_valid(c.id_number) for c in residents)
    assert all(c.id_number[-1] == ric.calc_check_digit(c.id_number) for c in cards)
    today = dt.date(2026, 11, 23)
    assert [c.name for c in cards if c.expired(today)] == ["李秀英"]


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({36: "1985-3-1"}, "birth date"),
        ({36: "19850231"}, "birth date"),
        ({36: "19850312", 188: "2016052X"}, "valid-from"),
        ({36: "19850312", 188: "20160520", 204: "永久"}, "valid-to"),
    ],
)
def test_a_bad_date_is_a_card_error_naming_the_field(fields, why):
    with pytest.raises(CardError, match=why):
        decode_text(block(fields))


def test_wrong_size_unknown_type_and_broken_utf16_are_card_errors():
    with pytest.raises(CardError, match="bytes"):
        decode_text(b"\x20\x00" * 100)
    with pytest.raises(CardError, match="card type"):
        decode_text(block({}, type_code="Q"))
    with pytest.raises(CardError, match="UTF-16"):
        decode_text(b"\x00\xd8" + block({})[2:])  # a lone surrogate


def test_an_unknown_gender_code_does_not_refuse_the_citizen():
    raw = encode_text(sample_cards()[0])
    raw = raw[:30] + "7".encode("utf-16-le") + raw[32:]
    assert decode_text(raw).gender is Gender.UNKNOWN


def test_a_field_too_long_for_the_card_is_refused_when_encoding():
    with pytest.raises(ValueError, match="name"):
        encode_text(replace(sample_cards()[0], name="欧" * 16))


@settings(max_examples=300, deadline=500)
@given(st.binary(min_size=0, max_size=300))
def test_random_text_blocks_decode_or_raise_card_error(raw):
    try:
        card = decode_text(raw)
    except CardError as err:
        assert err.detail
    else:
        assert len(raw) == TEXT_LEN and card.card_type in CardType


def test_the_nation_table_has_the_56_groups_in_gb3304_order():
    groups = [code for code in NATIONS if int(code) <= 56]
    assert groups == [f"{i:02d}" for i in range(1, 57)]
    assert nation_name("01") == "汉族" and nation_name("56") == "基诺族"
    assert nation_name("22") == "畲族"
    assert nation_name("") == "" and nation_name("99") == "99"


def test_a_name_with_a_character_beyond_the_basic_plane_shifts_no_later_field():
    # Given a resident whose name has 𠮷 (U+20BB7: two UTF-16 units, as GB 18030 names
    # may), laid out at the reference's byte offsets
    raw = bytearray(" ".encode("utf-16-le") * 128)
    for at, value in {0: "𠮷𠮷𠮷𠮷伟", 30: "1", 32: "01", 36: "19850312", 52: "江西省安福县",
                      122: "362425198503121234", 158: "安福县公安局", 188: "20160520",
                      204: "20360520"}.items():  # fmt: skip
        data = value.encode("utf-16-le")
        raw[at : at + len(data)] = data
    # When decoded, every field is read from its own bytes: nothing after the name moved
    card = decode_text(bytes(raw))
    assert card.name == "𠮷𠮷𠮷𠮷伟" and card.birth_date == dt.date(1985, 3, 12)
    assert card.id_number == "362425198503121234" and card.valid_to == dt.date(2036, 5, 20)
    # and half a surrogate pair is an unreadable card, not an IndexError
    broken = bytes(raw[:28]) + b"\x42\xd8" + bytes(raw[30:])  # a lone high surrogate
    with pytest.raises(CardError):
        decode_text(broken)


def test_the_emulator_lays_out_a_name_beyond_the_basic_plane_as_a_card_does():
    # (by bytes: it made a 258-byte block for "𠮷伟", which no reader reads)
    card = replace(sample_cards()[0], name="𠮷𠮷伟")
    raw = encode_text(card)
    assert len(raw) == TEXT_LEN and decode_text(raw).name == "𠮷𠮷伟"
    assert decode_text(raw).id_number == card.id_number
