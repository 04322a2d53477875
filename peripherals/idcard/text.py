"""The 256-byte text block of an ID card (UTF-16LE, space padded) <-> IdCard.

Layouts from /work/shared/reference/devices.md §1: the character at byte 248
says which card it is (space: resident, ``I``: foreigner's permanent residence
card (old), ``Y``: the 2023 foreigner's card, ``J``: Hong Kong / Macao /
Taiwan residence permit). Offsets below are in bytes, as in the references.
"""

from __future__ import annotations

import datetime as dt

from kiosk.errors import CardError
from kiosk.identity import CardType, Gender, IdCard

TEXT_LEN = 256
LONG_TERM = "长期"  # valid_to of a card that never expires
TYPE_AT = 248

# field: (byte offset, byte length)
RESIDENT = {
    "name": (0, 30),
    "gender": (30, 2),
    "nation": (32, 4),
    "birth": (36, 16),
    "address": (52, 70),
    "id_number": (122, 36),
    "authority": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
}
HMT = {**RESIDENT, "pass_number": (220, 18), "issue_count": (238, 4)}
FOREIGNER_OLD = {
    "english_name": (0, 120),
    "gender": (120, 2),
    "id_number": (122, 30),
    "nationality": (152, 6),
    "name": (158, 30),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "birth": (220, 16),
    "version": (236, 4),
    "authority": (240, 8),
}
FOREIGNER = {
    "name": (0, 30),
    "gender": (30, 2),
    "renewal_count": (32, 4),
    "birth": (36, 16),
    "english_name": (52, 70),  # characters 1-35
    "id_number": (122, 36),
    "valid_from": (188, 16),
    "valid_to": (204, 16),
    "english_name_2": (220, 22),  # characters 36-46
    "nationality": (242, 6),
    "old_permit": (250, 6),
}
TYPE_CODES = {
    " ": CardType.RESIDENT,
    "I": CardType.FOREIGNER_OLD,
    "Y": CardType.FOREIGNER,
    "J": CardType.HMT_RESIDENCE,
}
LAYOUTS = {
    CardType.RESIDENT: RESIDENT,
    CardType.FOREIGNER_OLD: FOREIGNER_OLD,
    CardType.FOREIGNER: FOREIGNER,
    CardType.HMT_RESIDENCE: HMT,
}


def _date(value: str, what: str, long_term_ok: bool = False) -> dt.date | None:
    if long_term_ok and value.startswith(LONG_TERM):
        return None
    try:
        if len(value) != 8 or not value.isascii() or not value.isdigit():
            raise ValueError(value)
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as err:
        raise CardError(f"text block: {what} is not a YYYYMMDD date") from err


def decode_text(block: bytes, photo: bytes = b"") -> IdCard:
    """The card described by a 256-byte text block.

    :raises CardError: wrong size, not UTF-16LE, unknown card type, or a bad date.
    """
    if len(block) != TEXT_LEN:
        raise CardError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")

    def text(at: int, n: int) -> str:
        # each field from its own bytes (the offsets count bytes): a character outside the
        # BMP (a surrogate pair, two UTF-16 units) in a name shifts no later field
        try:
            return block[at : at + n].decode("utf-16-le")
        except UnicodeDecodeError as err:
            raise CardError("text block is not UTF-16LE") from err

    code = text(TYPE_AT, 2)
    card_type = TYPE_CODES.get(code)
    if card_type is None:
        raise CardError(f"unknown card type code {code!r}")
    layout = LAYOUTS[card_type]

    def raw(name: str) -> str:
        return text(*layout[name])

    def get(name: str) -> str:
        return raw(name).strip(" \x00")

    try:
        gender = Gender(get("gender"))
    except ValueError:
        gender = Gender.UNKNOWN  # tolerate: a wrong gender code must not block a citizen
    english = ""
    if card_type is CardType.FOREIGNER:
        english = (raw("english_name") + raw("english_name_2")).strip(" \x00")
    elif card_type is CardType.FOREIGNER_OLD:
        english = get("english_name")
    foreign = card_type in (CardType.FOREIGNER, CardType.FOREIGNER_OLD)
    return IdCard(
        name=get("name") or english,
        gender=gender,
        nation="" if foreign else get("nation"),
        birth_date=_date(get("birth"), "birth date"),
        address="" if foreign else get("address"),
        id_number=get("id_number"),
        authority=get("authority") if "authority" in layout else "",
        valid_from=_date(get("valid_from"), "valid-from date"),
        valid_to=_date(get("valid_to"), "valid-to date", long_term_ok=True),
        card_type=card_type,
        english_name=english,
        nationality=get("nationality") if foreign else "",
        photo=photo,
    )


def encode_text(card: IdCard, **extra: str) -> bytes:
    """The 256-byte text block a card of this kind carries (for the emulator).

    ``extra`` fills layout fields IdCard does not hold (``pass_number``,
    ``renewal_count``, ``version``...).

    :raises ValueError: a field does not fit its place on the card.
    """
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    layout = LAYOUTS[card.card_type]

    def put(name: str, value: str) -> None:
        # by bytes, as decode_text reads them: a character beyond the basic plane takes
        # four (a surrogate pair)
        at, n = layout[name]
        data = value.encode("utf-16-le")
        if len(data) > n:
            raise ValueError(f"{name} is longer than its {n} bytes")
        block[at : at + len(data)] = data

    values = {
        "name": card.name,
        "gender": card.gender.value,
        "nation": card.nation,
        "birth": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else LONG_TERM,
        "nationality": card.nationality,
        "english_name": card.english_name,
    }
    if card.card_type is CardType.FOREIGNER:
        values["english_name"] = card.english_name[:35]
        values["english_name_2"] = card.english_name[35:]
    values.update(extra)
    for name, value in values.items():
        if name in layout and value:
            put(name, value)
    code = next(k for k, v in TYPE_CODES.items() if v is card.card_type)
    block[TYPE_AT : TYPE_AT + 2] = code.encode("utf-16-le")
    return bytes(block)
