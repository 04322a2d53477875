"""Identifying by electronic ID (电子身份证): the code format the reference platform
issues, the card-less identity it yields, and the terminal's handling of scanned codes."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import pytest

from central import eid
from kiosk.config import KioskConfig
from kiosk.form import card_values
from kiosk.identity import ElectronicId, Gender, looks_like_eid
from kiosk.terminal import Ports, Terminal
from tests.fakes import FakeIdentityPlatform, FakeScanner

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
NUMBER, NAME = "362425196504120015", "刘建国"
KEY = bytes(range(32))


# -- the code ---------------------------------------------------------------------------


def test_a_code_names_the_citizen_until_it_expires():
    code = eid.issue(KEY, NUMBER, NAME, NOW, valid=300)
    claims = eid.read(KEY, code, NOW + dt.timedelta(seconds=299))
    assert (claims.name, claims.id_number) == (NAME, NUMBER)
    assert claims.expires == NOW + dt.timedelta(seconds=300)
    with pytest.raises(eid.EidExpired):
        eid.read(KEY, code, NOW + dt.timedelta(seconds=300))


def test_a_code_is_opaque_to_whoever_photographs_it():
    code = eid.issue(KEY, NUMBER, NAME, NOW)
    raw = base64.urlsafe_b64decode(code.removeprefix("EID1.") + "==")
    assert code.startswith("EID1.") and len(code) < 300  # a small QR code
    assert NUMBER.encode() not in raw and NAME.encode() not in raw
    assert NUMBER not in code and repr(eid.read(KEY, code, NOW)).count(NUMBER) == 0


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c[:-4] + ("AAAA" if not c.endswith("AAAA") else "BBBB"),  # changed
        lambda c: "EID1." + base64.urlsafe_b64encode(b"x" * 60).decode(),  # made up
        lambda c: eid.issue(bytes(32), NUMBER, NAME, NOW),  # another issuer's key
        lambda c: "EID1.!!not base64!!",
        lambda c: "EID1.",
        lambda c: "https://example.org/track/AF123",  # some other QR code
    ],
)
def test_a_changed_made_up_or_foreign_code_is_refused_as_invalid(forge):
    code = forge(eid.issue(KEY, NUMBER, NAME, NOW))
    with pytest.raises(eid.EidInvalid):
        eid.read(KEY, code, NOW)


def test_a_code_from_the_future_is_refused_and_lifetimes_are_bounded():
    code = eid.issue(KEY, NUMBER, NAME, NOW + dt.timedelta(hours=1))
    with pytest.raises(eid.EidInvalid):
        eid.read(KEY, code, NOW)
    with pytest.raises(ValueError):
        eid.issue(KEY, NUMBER, NAME, NOW, valid=eid.MAX_VALID + 1)
    with pytest.raises(ValueError):
        eid.issue(KEY, "362425196504120016", NAME, NOW)  # wrong check digit


def test_the_issuer_key_is_made_once_and_readable_by_its_owner_only(tmp_path):
    first = eid.load_key(tmp_path)
    assert eid.load_key(tmp_path) == first and len(first) == 32
    assert (tmp_path / "eid.key").stat().st_mode & 0o077 == 0


# -- the identity -----------------------------------------------------------------------


def test_an_electronic_id_tells_gender_and_birth_date_from_the_number_and_masks_itself():
    person = ElectronicId(NAME, NUMBER)
    assert person.gender is Gender.MALE
    assert person.birth_date == dt.date(1965, 4, 12)
    assert NUMBER not in repr(person) and NAME not in repr(person)
    assert card_values(person) == {"name": NAME, "gender": "1", "id_number": NUMBER,
                                   "birth_date": "1965-04-12"}  # fmt: skip


def test_only_codes_that_look_like_an_electronic_id_go_to_the_platform():
    assert looks_like_eid(" EID1.abc\r")
    assert not looks_like_eid("https://gov.example/track/AF20261123")
    assert not looks_like_eid("6901234567892")


# -- the terminal -----------------------------------------------------------------------


def terminal(platform=None, scanner=None):
    t = Terminal(Ports(platform=platform, scanner=scanner), KioskConfig())
    events: list[str] = []
    t.subscribe(events.append)
    return t, events


async def listening(scanner: FakeScanner) -> None:
    """Until the terminal has dropped stale codes and waits for new ones."""
    while scanner.reads < 3:
        await asyncio.sleep(0.01)


async def test_a_scanned_electronic_id_starts_a_card_less_visit():
    person = ElectronicId(NAME, NUMBER, NOW)
    scanner, platform = FakeScanner(), FakeIdentityPlatform({"EID1.good": person})
    t, events = terminal(platform, scanner)
    task = asyncio.ensure_future(t.wait_for_card(asyncio.Event(), 0.01, codes=lambda: True))
    await listening(scanner)
    scanner.show("EID1.good")
    identity = await asyncio.wait_for(task, 2)
    assert identity is person and t.display_name == NAME
    assert events == ["eid:verifying", "visit"]
    # No card lies on any reader, and that does not end the visit
    await asyncio.wait_for(t.end_when_card_removed(asyncio.Event(), 0.01), 1)
    assert t.session is not None and t.session.card is person
    # Finishing wipes it like a card
    session = t.session
    t.end()
    assert session.card is None and not session.holds_personal_data()


async def test_refused_codes_are_each_explained_and_the_kiosk_keeps_listening():
    person = ElectronicId(NAME, NUMBER, NOW)
    scanner, platform = FakeScanner(), FakeIdentityPlatform({"EID1.good": person})
    t, events = terminal(platform, scanner)
    task = asyncio.ensure_future(t.wait_for_card(asyncio.Event(), 0.01, codes=lambda: True))
    await listening(scanner)
    for code in ("https://pay.example/qr/6901234567892", "EID1.forged", "EID1.forged"):
        scanner.show(code)
    while events.count("error:eid.invalid") < 2:
        await asyncio.sleep(0.01)
    scanner.show("EID1.good")
    assert await asyncio.wait_for(task, 2) is person
    assert events == ["error:eid.not_eid", "eid:verifying", "error:eid.invalid", "eid:verifying",
                      "error:eid.invalid", "eid:verifying", "visit"]  # fmt: skip


async def test_a_receipt_qr_shown_where_one_identifies_asks_for_its_progress_not_an_identity():
    # Given the kiosk listening for an e-ID on the attract screen
    scanner, platform = FakeScanner(), FakeIdentityPlatform({})
    t, events = terminal(platform, scanner)
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_card(stop, 0.01, codes=lambda: True))
    await listening(scanner)
    # When a citizen shows a receipt's tracking QR (and then a pending slip's)
    scanner.show("https://zwfw.example.gov.cn/track/AF2026112300001")
    scanner.show("http://127.0.0.1:8080/track/LAF-ZH-0007-000001")
    while len(events) < 2:
        await asyncio.sleep(0.01)
    stop.set()
    # Then listeners are asked to show those numbers' progress: nobody is identified,
    # nothing goes to the platform's e-ID check, no 'not an e-ID' message
    assert await task is None and t.session is None
    assert events == ["track:AF2026112300001", "track:LAF-ZH-0007-000001"]


async def test_a_platform_that_cannot_be_reached_is_explained_as_such():
    scanner, platform = (
        FakeScanner(),
        FakeIdentityPlatform({"EID1.good": ElectronicId(NAME, NUMBER)}),
    )
    platform.down = True
    t, events = terminal(platform, scanner)
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_card(stop, 0.01, codes=lambda: True))
    await listening(scanner)
    scanner.show("EID1.good")
    while "error:eid.offline" not in events:
        await asyncio.sleep(0.01)
    stop.set()
    assert await task is None and t.session is None


async def test_codes_shown_while_the_kiosk_is_not_listening_are_dropped_as_stale():
    # Given a code shown while another screen had the scanner
    scanner, platform = (
        FakeScanner(),
        FakeIdentityPlatform({"EID1.old": ElectronicId(NAME, NUMBER)}),
    )
    t, events = terminal(platform, scanner)
    listening = False
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_card(stop, 0.01, codes=lambda: listening))
    await asyncio.sleep(0.05)
    assert scanner.reads == 0  # not listening: the scanner is left to whoever has it
    scanner.show("EID1.old")
    # When the attract screen comes back, that code does not start a visit
    listening = True
    await asyncio.sleep(0.4)
    stop.set()
    assert await task is None
    assert t.session is None and events == []


async def test_codes_shown_while_nothing_read_the_scanner_are_forgotten_when_a_screen_listens():
    # Given the last citizen's receipt shown to the scanner while no screen read it
    scanner = FakeScanner()
    t, _ = terminal(scanner=scanner)
    scanner.show("https://zwfw.example.gov.cn/track/AF2026120700001?c=x")
    # When a screen begins to listen, it is dropped: the next citizen never sees it
    await t.forget_codes()
    assert await t.read_code(0.05) is None
    # while a code shown after that is read
    scanner.show("AF2026120700002")
    assert await t.read_code(0.5) == "AF2026120700002"
