"""Sample cards for the emulator, the demo and the tests (fictional people).

ID numbers carry a correct GB 11643 check character (computed with
python-stdnum) and real county codes, so validators accept them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

from stdnum.cn import ric

from kiosk.identity import CardType, Gender, IdCard


def id_number(first17: str) -> str:
    """``first17`` + its GB 11643 check character."""
    return first17 + ric.calc_check_digit(first17 + "0")


def fake_wlt(seed: str, size: int = 1024) -> bytes:
    """A stand-in for a card's WLT photo block: deterministic, and holding every
    byte value, so a link that rewrites 0x0D, 0x11 or 0x13 is caught."""
    stream = b""
    counter = 0
    while len(stream) < size:
        stream += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return (b"WLf" + bytes(range(256)) + stream)[:size]


def sample_cards() -> list[IdCard]:
    """[valid resident, expired resident, long-term elderly resident,
    2023 foreigner's card, Hong Kong residence permit]."""
    cards = [
        IdCard(
            name="张伟",
            gender=Gender.MALE,
            nation="01",
            birth_date=dt.date(1985, 3, 12),
            address="江西省吉安市安福县平都镇城北路28号",
            id_number=id_number("36242519850312123"),
            authority="安福县公安局",
            valid_from=dt.date(2016, 5, 20),
            valid_to=dt.date(2036, 5, 20),
        ),
        IdCard(
            name="李秀英",
            gender=Gender.FEMALE,
            nation="01",
            birth_date=dt.date(1978, 11, 2),
            address="江西省吉安市吉州区人民大道56号3栋2单元501室",
            id_number=id_number("36240119781102046"),
            authority="吉安市公安局吉州分局",
            valid_from=dt.date(2004, 8, 15),
            valid_to=dt.date(2024, 8, 15),
        ),
        IdCard(
            name="雷金凤",
            gender=Gender.FEMALE,
            nation="22",
            birth_date=dt.date(1946, 6, 18),
            address="江西省上饶市铅山县太源畲族乡太源村樟坪组12号",
            id_number=id_number("36232419460618002"),
            authority="铅山县公安局",
            valid_from=dt.date(2010, 9, 1),
            valid_to=None,
        ),
        IdCard(
            name="威廉姆森·乔纳森",
            gender=Gender.MALE,
            nation="",
            birth_date=dt.date(1988, 7, 15),
            address="",
            # 9, province 36, nationality 840 (ISO 3166 numeric), birth date, sequence
            id_number=id_number("93684019880715001"),
            authority="",
            valid_from=dt.date(2023, 12, 1),
            valid_to=dt.date(2033, 12, 1),
            card_type=CardType.FOREIGNER,
            english_name="WILLIAMSON-HARGREAVES, JONATHAN MICHAEL",
            nationality="USA",
        ),
        IdCard(
            name="陈家明",
            gender=Gender.MALE,
            nation="",
            birth_date=dt.date(1992, 2, 2),
            address="江西省吉安市井冈山市红星街道茨坪路9号",
            id_number=id_number("81000019920202345"),
            authority="井冈山市公安局",
            valid_from=dt.date(2024, 4, 8),
            valid_to=dt.date(2029, 4, 8),
            card_type=CardType.HMT_RESIDENCE,
        ),
    ]
    return [_with_photo(card) for card in cards]


def _with_photo(card: IdCard) -> IdCard:
    return replace(card, photo=fake_wlt(card.id_number))
