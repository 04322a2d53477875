"""Sample cards for pure tests (fictitious people, valid GB 11643 numbers)."""

from __future__ import annotations

import datetime as dt

from kiosk.identity import Gender, IdCard, SocialSecurityCard


def id_card(
    gender: Gender = Gender.FEMALE, address: str = "江西省安福县洲湖镇洲湖村12号", **kw
) -> IdCard:
    values = dict(
        name="李秀英", gender=gender, nation="01", birth_date=dt.date(1990, 3, 7),
        address=address, id_number="362429199003070020", authority="安福县公安局",
        valid_from=dt.date(2015, 1, 1), valid_to=dt.date(2035, 1, 1),
    )  # fmt: skip
    values.update(kw)
    return IdCard(**values)


def social_card() -> SocialSecurityCard:
    return SocialSecurityCard(
        "362429199003070020", "李秀英", Gender.FEMALE, dt.date(1990, 3, 7), nation="01"
    )
