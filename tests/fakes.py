"""In-memory fakes of the core's ports, for tests of pure logic only.

Integration tests use the real emulators over real channels instead.
"""

from __future__ import annotations

import datetime as dt

from kiosk.errors import CardError
from kiosk.health import Health
from kiosk.identity import Gender, IdCard, SocialSecurityCard


def an_id_card(valid_to: dt.date | None = dt.date(2035, 1, 1), name: str = "王芳") -> IdCard:
    return IdCard(
        name=name,
        gender=Gender.FEMALE,
        nation="01",
        birth_date=dt.date(1990, 5, 1),
        address="江西省吉安市永丰县恩江镇城南路8号",
        id_number="36082519900501002X",
        authority="永丰县公安局",
        valid_from=dt.date(2015, 1, 1),
        valid_to=valid_to,
    )


class FakeIdReader:
    name = "idcard"

    def __init__(self):
        self.card: IdCard | None = None
        self.fault: CardError | None = None
        self.reads = 0

    def read_card(self, timeout: float = 0.0) -> IdCard | None:
        self.reads += 1
        if self.fault:
            raise self.fault
        return self.card

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass


class FakeSocialReader:
    name = "sscard"

    def __init__(self, card: SocialSecurityCard | None = None):
        self.card = card

    def read_card(self) -> SocialSecurityCard | None:
        return self.card

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass
