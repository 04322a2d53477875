"""What a citizen's card tells the kiosk: plain data, no device code.

Personal data: instances live only in the current session; ``__repr__`` masks
them so they never reach a log by accident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class CardType(StrEnum):
    RESIDENT = "resident"  # 居民身份证
    FOREIGNER_OLD = "foreigner_old"  # 外国人永久居留身份证 (old, type I)
    FOREIGNER = "foreigner"  # 外国人永久居留身份证 (2023, type Y)
    HMT_RESIDENCE = "hmt_residence"  # 港澳台居民居住证 (type J)


class Gender(StrEnum):
    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSTATED = "9"


def mask(value: str, keep_start: int = 1, keep_end: int = 1) -> str:
    """Mask personal text for display or diagnostics: 张三丰 → 张*丰."""
    if len(value) <= keep_start + keep_end:
        return value[:1] + "*" * max(len(value) - 1, 0)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


@dataclass(frozen=True, repr=False)
class IdCard:
    """A resident ID card (or a foreigner's / HMT card) as read by the reader.

    ``valid_to`` is None for a long-term (长期) card.
    """

    name: str
    gender: Gender
    nation: str  # GB 3304 code, two digits ("01" = 汉); empty for foreigners
    birth_date: dt.date
    address: str
    id_number: str
    authority: str
    valid_from: dt.date
    valid_to: dt.date | None
    card_type: CardType = CardType.RESIDENT
    english_name: str = ""
    nationality: str = ""
    photo: bytes = field(default=b"", compare=False)  # WLT-compressed, as on the card

    def expired(self, today: dt.date) -> bool:
        return self.valid_to is not None and today > self.valid_to

    def __repr__(self) -> str:
        return f"IdCard(name={mask(self.name)!r}, id_number={mask(self.id_number, 3, 2)!r}, type={self.card_type})"


@dataclass(frozen=True, repr=False)
class SocialSecurityCard:
    """A social-security card's holder and card data (EF05/EF06)."""

    ss_number: str  # social security number = citizen ID number
    name: str
    gender: Gender
    birth_date: dt.date | None
    card_number: str = ""
    region: str = ""  # first six digits of the card identification code
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    nation: str = ""
    spec_version: str = ""

    def __repr__(self) -> str:
        return f"SocialSecurityCard(name={mask(self.name)!r}, ss_number={mask(self.ss_number, 3, 2)!r})"


@dataclass(frozen=True, repr=False)
class ElectronicId:
    """An electronic ID (电子身份证 / 网证) shown as a QR code and verified by the platform.

    A card-less identity: there is no card in any reader, so removing a card
    never ends its visit; the visit ends on finish or inactivity like any
    other, and this goes with it. ``expires`` is when the shown code stops
    being valid (not the identity's): the kiosk keeps no use for it after
    verification. Gender and birth date follow from the ID number (GB 11643).
    """

    name: str
    id_number: str
    expires: dt.datetime | None = None

    @property
    def gender(self) -> Gender:
        digit = self.id_number[16:17]
        if not (digit.isascii() and digit.isdigit()):  # a corrupt card: "²" is a digit too
            return Gender.UNKNOWN
        return Gender.MALE if int(digit) % 2 else Gender.FEMALE

    @property
    def birth_date(self) -> dt.date | None:
        try:
            return dt.date(int(self.id_number[6:10]), int(self.id_number[10:12]), int(self.id_number[12:14]))
        except ValueError:
            return None

    def __repr__(self) -> str:
        return f"ElectronicId(name={mask(self.name)!r}, id_number={mask(self.id_number, 3, 2)!r})"


# Whatever identified the citizen for this visit.
Identity = IdCard | SocialSecurityCard | ElectronicId


def id_number_of(identity: Identity | None) -> str:
    """The citizen ID number an identity carries ('' for none)."""
    if identity is None:
        return ""
    if isinstance(identity, SocialSecurityCard):
        return identity.ss_number
    return identity.id_number


# How the electronic ID codes the platform verifies begin: the reference
# platform's (central/eid.py). A province whose e-ID service uses another form
# adds its prefix here; any other scanned code is not sent to the platform.
EID_PREFIXES = ("EID1.",)


def looks_like_eid(code: str) -> bool:
    """Is this scanned text an electronic ID code (as opposed to, say, a receipt's QR)?"""
    return code.strip().startswith(EID_PREFIXES)
