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
        address="江西省吉安市安福县平都镇城南路8号",
        id_number="362429199005010048",
        authority="安福县公安局",
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


class FakeScanner:
    """A code scanner: ``show(code)`` queues a code, ``read_code`` hands it on."""

    name = "scanner"

    def __init__(self):
        import queue

        self.codes: queue.Queue[str] = queue.Queue()
        self.reads = 0

    def show(self, code: str) -> None:
        self.codes.put(code)

    def read_code(self, timeout: float) -> str | None:
        import queue

        self.reads += 1
        try:
            return self.codes.get(timeout=timeout)
        except queue.Empty:
            return None

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass


class FakeIdentityPlatform:
    """The platform's e-ID check and face match, in memory.

    ``citizens``: code → ElectronicId; any other code is refused as ``eid.invalid``.
    ``faces``: the photo bytes that match (anything else does not). ``down``: unreachable.
    """

    def __init__(self, citizens=None, faces=(b"the citizen",)):
        self.citizens = dict(citizens or {})
        self.faces = set(faces)
        self.down = False
        self.compared: list[str] = []  # ID numbers compared, in order

    async def verify_eid(self, code: str):
        from kiosk.errors import PlatformRejected, PlatformUnreachable

        if self.down:
            raise PlatformUnreachable("connection refused")
        if code not in self.citizens:
            raise PlatformRejected("HTTP 422 eid.invalid", status=422, message_key="eid.invalid")
        return self.citizens.pop(code)  # a code is used once

    async def face_match(self, id_number: str, jpeg: bytes):
        from types import SimpleNamespace

        from kiosk.errors import PlatformUnreachable

        if self.down:
            raise PlatformUnreachable("connection refused")
        self.compared.append(id_number)
        return SimpleNamespace(match=jpeg in self.faces)
