"""Social-security card APDUs and data layout: pure bytes in, plain data out.

Both directions live here, side by side, so the driver (decode) and the card
emulator (encode) cannot drift apart: ``ITEMS`` is the one table of where
each data item sits (file, record, tag, size, coding), after
/work/shared/reference/devices.md section 3.

- The application (SSSE) is selected by AID "sx1.sh." + 社会保障 (GBK).
- EF05 holds card data, EF06 the holder; each record is one TLV item.
- Numeric items are BCD padded with F; text is ASCII or GBK padded with 00.

Every parser raises ``CardError`` (never IndexError / UnicodeError) so a
garbled card reaches the citizen as "card unreadable", not a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kiosk.errors import CardError
from kiosk.identity import Gender, SocialSecurityCard

SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")  # 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF
EF05 = 0xEF05  # card data
EF06 = 0xEF06  # holder data

SW_OK = 0x9000

# --------------------------------------------------------------------------- commands


def select_aid(aid: bytes = SSSE_AID) -> bytes:
    """SELECT by DF name: ``00 A4 04 00 Lc aid`` (case 3: the FCI comes via 61xx)."""
    if not 1 <= len(aid) <= 16:
        raise ValueError(f"AID must be 1..16 bytes, got {len(aid)}")
    return bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid


def select_ef(fid: int) -> bytes:
    """SELECT by file identifier: ``00 A4 00 00 02 hi lo``."""
    return bytes([0x00, 0xA4, 0x00, 0x00, 0x02]) + fid.to_bytes(2, "big")


def read_record(record: int, sfi: int | None = None, le: int = 0) -> bytes:
    """READ RECORD ``00 B2 rec P2 Le``: P2 04 = current EF, else (SFI << 3) | 4.

    Le 00 asks for the whole record (up to 256 bytes).
    """
    if not 1 <= record <= 0xFE or not 0 <= le <= 0xFF:
        raise ValueError("record 1..254 and Le 0..255")
    p2 = 0x04 if sfi is None else ((sfi & 0x1F) << 3) | 0x04
    return bytes([0x00, 0xB2, record, p2, le])


def get_response(le: int) -> bytes:
    """GET RESPONSE ``00 C0 00 00 Le`` after a ``61 xx``."""
    return bytes([0x00, 0xC0, 0x00, 0x00, le & 0xFF])


# --------------------------------------------------------------------------- status words

_SW_MEANINGS = {
    0x9000: "success",
    0x6281: "part of returned data may be corrupted",
    0x6282: "end of file or record reached before Le bytes",
    0x6700: "wrong length",
    0x6982: "security status not satisfied (PIN or PSAM authentication needed)",
    0x6983: "authentication method blocked",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6B00: "wrong parameters P1-P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "card error, no precise diagnosis",
}


def sw_meaning(sw: int) -> str:
    """A technician's one-line reading of a status word, e.g. ``6A82 file … not found``."""
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw in _SW_MEANINGS:
        text = _SW_MEANINGS[sw]
    elif sw1 == 0x61:
        text = f"{sw2 or 256} more bytes available (GET RESPONSE)"
    elif sw1 == 0x6C:
        text = f"wrong Le, exact length is {sw2}"
    elif sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        text = f"verification failed, {sw2 & 0x0F} tries left"
    else:
        text = "unknown status"
    return f"{sw:04X} {text}"


@dataclass(frozen=True)
class Response:
    """A response APDU: data and the status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        """:raises CardError: fewer than two bytes (no status word: card gone or mute)."""
        if len(raw) < 2:
            raise CardError(f"response without status word ({len(raw)} bytes)")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


# --------------------------------------------------------------------------- codings


def encode_tlv(tag: int, value: bytes) -> bytes:
    if len(value) > 0xFF:
        raise ValueError("value longer than 255 bytes")
    length = bytes([len(value)]) if len(value) < 0x80 else bytes([0x81, len(value)])
    return bytes([tag]) + length + value


def parse_tlv(data: bytes) -> list[tuple[int, bytes]]:
    """Split simple TLV (1-byte tag, 1-byte or ``81 xx`` length); 00/FF filler ends it.

    :raises CardError: a length runs past the end.
    """
    items: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF):  # record padding after the last item
            break
        if i + 1 >= len(data):
            raise CardError(f"TLV tag {tag:02X} without length")
        length, i = data[i + 1], i + 2
        if length == 0x81:
            if i >= len(data):
                raise CardError(f"TLV tag {tag:02X}: truncated length")
            length, i = data[i], i + 1
        elif length > 0x80:
            raise CardError(f"TLV tag {tag:02X}: unsupported length form {length:02X}")
        if i + length > len(data):
            raise CardError(f"TLV tag {tag:02X}: {length} bytes announced, {len(data) - i} left")
        items.append((tag, bytes(data[i : i + length])))
        i += length
    return items


def encode_bcd(digits: str, size: int) -> bytes:
    """Digits packed two per byte, padded on the right with F."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) > size * 2:
        raise ValueError(f"cannot pack {len(digits)} characters into {size} BCD bytes")
    return bytes.fromhex(digits.ljust(size * 2, "F"))


def decode_bcd(raw: bytes) -> str:
    """BCD digits up to the first F nibble.

    :raises CardError: a nibble A–E, or a digit after the F padding.
    """
    text = raw.hex().upper()
    digits = text.split("F", 1)[0]
    if not digits.isdigit() and digits:
        raise CardError("BCD field holds a non-digit nibble")
    if set(text[len(digits) :]) - {"F"}:
        raise CardError("BCD field has digits after its F padding")
    return digits


def encode_bcd_date(date: dt.date | None) -> bytes:
    return b"\xff" * 4 if date is None else encode_bcd(date.strftime("%Y%m%d"), 4)


def decode_bcd_date(raw: bytes) -> dt.date | None:
    """``YYYYMMDD`` in 4 BCD bytes; all F or all 0 means "not set".

    :raises CardError: not 8 digits, or not a calendar date.
    """
    if not raw.strip(b"\xff") or not raw.strip(b"\x00"):
        return None
    digits = decode_bcd(raw)
    if len(digits) != 8:
        raise CardError(f"BCD date has {len(digits)} digits, expected 8")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as err:
        raise CardError("BCD date is not a calendar date") from err


def encode_text(text: str, size: int, encoding: str = "gbk") -> bytes:
    raw = text.encode(encoding)
    if len(raw) > size:
        raise ValueError(f"text needs {len(raw)} bytes, the field has {size}")
    return raw.ljust(size, b"\x00")


def decode_text(raw: bytes, encoding: str = "gbk") -> str:
    """Text padded with 00 (some issuers pad with FF or spaces).

    :raises CardError: bytes that are not valid in ``encoding``.
    """
    trimmed = raw.split(b"\x00", 1)[0].rstrip(b"\xff").strip()
    try:
        return trimmed.decode(encoding)
    except UnicodeDecodeError as err:
        raise CardError(f"text field is not valid {encoding.upper()}") from err


# --------------------------------------------------------------------------- layout

Coding = Literal["an", "gbk", "bcd", "date"]


@dataclass(frozen=True)
class Item:
    """One data item: its file, record number, tag, value size and coding."""

    key: str
    fid: int
    record: int
    tag: int
    size: int
    coding: Coding


ITEMS: tuple[Item, ...] = (
    Item("card_code", EF05, 1, 0x01, 16, "an"),  # card identification code; 6 digits region
    Item("card_type", EF05, 2, 0x02, 1, "an"),
    Item("spec_version", EF05, 3, 0x03, 4, "an"),  # "3.00": first digit = generation
    Item("issuer", EF05, 4, 0x04, 12, "an"),  # issuing institution code
    Item("issue_date", EF05, 5, 0x05, 4, "date"),
    Item("expiry_date", EF05, 6, 0x06, 4, "date"),
    Item("card_number", EF05, 7, 0x07, 9, "an"),
    Item("ss_number", EF06, 1, 0x08, 18, "an"),
    Item("name", EF06, 2, 0x09, 30, "gbk"),
    Item("name_ext", EF06, 3, 0x4E, 20, "gbk"),  # rest of a long name [S]
    Item("gender", EF06, 4, 0x0A, 1, "an"),
    Item("nation", EF06, 5, 0x0B, 1, "bcd"),
    Item("birthplace", EF06, 6, 0x0C, 3, "bcd"),
    Item("birth_date", EF06, 7, 0x0D, 4, "date"),
)
ITEMS_BY_TAG = {item.tag: item for item in ITEMS}
FILES = (EF05, EF06)


def records_of(fid: int) -> list[int]:
    return [item.record for item in ITEMS if item.fid == fid]


def _encode_item(item: Item, value: str | dt.date | None) -> bytes:
    if item.coding == "date":
        assert not isinstance(value, str)
        return encode_bcd_date(value)
    text = "" if value is None else str(value)
    if item.coding == "bcd":
        return encode_bcd(text, item.size) if text else b"\xff" * item.size
    return encode_text(text, item.size, "ascii" if item.coding == "an" else "gbk")


def _decode_item(item: Item, raw: bytes) -> str | dt.date | None:
    if item.coding == "date":
        return decode_bcd_date(raw)
    if item.coding == "bcd":
        return decode_bcd(raw)
    return decode_text(raw, "ascii" if item.coding == "an" else "gbk")


_SS_NUMBER = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")


def parse_holder(records: Iterable[bytes]) -> SocialSecurityCard:
    """The card and holder data from READ RECORD replies (EF05 and EF06, any order).

    Items are found by tag, so a card that numbers its records differently
    still reads; unknown tags are ignored.

    :raises CardError: garbled TLV or field, or no social security number / name.
    """
    values: dict[str, str | dt.date | None] = {}
    for record in records:
        for tag, raw in parse_tlv(record):
            item = ITEMS_BY_TAG.get(tag)
            if item is not None:
                values[item.key] = _decode_item(item, raw)
    ss_number = str(values.get("ss_number") or "").upper()
    name = str(values.get("name") or "") + str(values.get("name_ext") or "")
    if not _SS_NUMBER.fullmatch(ss_number):
        raise CardError("social security number missing or malformed")
    if not name:
        raise CardError("holder name missing")
    gender_code = str(values.get("gender") or "0")
    try:
        gender = Gender(gender_code)
    except ValueError as err:
        raise CardError(f"gender code {gender_code!r} is not GB 2261") from err
    card_code = str(values.get("card_code") or "")
    nation = str(values.get("nation") or "")
    return SocialSecurityCard(
        ss_number=ss_number,
        name=name,
        gender=gender,
        birth_date=_date(values.get("birth_date")),
        card_number=str(values.get("card_number") or ""),
        region=card_code[:6] if card_code[:6].isdigit() else "",
        issue_date=_date(values.get("issue_date")),
        expiry_date=_date(values.get("expiry_date")),
        nation=nation.zfill(2) if nation else "",
        spec_version=str(values.get("spec_version") or ""),
    )


def _date(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


# --------------------------------------------------------------------------- card side


@dataclass(frozen=True)
class SocialCardImage:
    """What the card holds: the FCI of the application and each record as TLV bytes."""

    records: dict[tuple[int, int], bytes]  # (fid, record number) -> TLV
    fci: bytes

    @classmethod
    def from_card(
        cls,
        card: SocialSecurityCard,
        *,
        card_code: str = "",
        card_type: str = "3",
        issuer: str = "",
        birthplace: str = "",
    ) -> SocialCardImage:
        """Lay a card's data out as EF05/EF06 records (the inverse of ``parse_holder``).

        ``card_code`` defaults to the region + "D156" (China) + a serial.
        """
        region = card.region or card.ss_number[:6]
        name = card.name.encode("gbk")
        values: dict[str, str | dt.date | None] = {
            "card_code": card_code or f"{region}D156000005"[:16],
            "card_type": card_type,
            "spec_version": card.spec_version or "3.00",
            "issuer": issuer or f"{region}000000"[:12],
            "issue_date": card.issue_date,
            "expiry_date": card.expiry_date,
            "card_number": card.card_number,
            "ss_number": card.ss_number,
            # a name longer than 30 GBK bytes continues in the extension item
            "name": _gbk_prefix(card.name, 30),
            "name_ext": name[len(_gbk_prefix(card.name, 30).encode("gbk")) :].decode("gbk"),
            "gender": card.gender.value,
            "nation": card.nation,
            "birthplace": birthplace or card.ss_number[:6],
            "birth_date": card.birth_date,
        }
        records = {
            (item.fid, item.record): encode_tlv(item.tag, _encode_item(item, values[item.key]))
            for item in ITEMS
        }
        fci = encode_tlv(0x6F, encode_tlv(0x84, SSSE_AID))
        return cls(records, fci)

    def record(self, fid: int, number: int) -> bytes | None:
        return self.records.get((fid, number))

    def files(self) -> set[int]:
        return {fid for fid, _ in self.records}


def _gbk_prefix(text: str, size: int) -> str:
    """The longest prefix of ``text`` whose GBK form fits in ``size`` bytes."""
    out = ""
    for ch in text:
        if len((out + ch).encode("gbk")) > size:
            break
        out += ch
    return out
