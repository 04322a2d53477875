"""The social-security card through a real pcscd, the vpcd reader and the card emulator.

The module starts one private pcscd (its own socket, its own vpcd ports) and
points this process's libpcsclite at it. libpcsclite keeps the socket path
of its first call for the whole process, so the path is reused if already set.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smartcard.System import readers as pcsc_readers

from kiosk.config import KioskConfig
from kiosk.errors import CardError, CardOfAnotherPerson, DeviceError
from kiosk.health import HealthState
from kiosk.i18n import message_for
from kiosk.terminal import Ports, Terminal
from peripherals.sscard import apdu
from peripherals.sscard.driver import CardEvent, PcscSocialCardReader
from peripherals.sscard.emulator import DEFAULT_ATR, VirtualSocialCard, card_of, sample_card
from peripherals.sscard.pcscd import SOCKET_ENV, PcscDaemon
from tests.fakes import an_id_card

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def eventually(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture(scope="module")
def pcscd() -> Iterator[PcscDaemon]:
    # a missing pcscd fails here with "pcscd is not installed (apt-get install ...)"
    socket_path = os.environ.get(SOCKET_ENV) or str(
        Path(tempfile.mkdtemp(prefix="kiosk-pcsc-")) / "pcscd.comm"
    )
    daemon = PcscDaemon(socket_path=socket_path)
    daemon.start()
    os.environ.update(daemon.env())  # before this process's first PC/SC call
    yield daemon
    daemon.close()


@pytest.fixture
def reader(pcscd: PcscDaemon) -> Iterator[PcscSocialCardReader]:
    device = PcscSocialCardReader("Virtual PCD 00 00", read_timeout=1.5)
    yield device
    device.close()


@pytest.fixture
def card(pcscd: PcscDaemon, reader: PcscSocialCardReader) -> Iterator[VirtualSocialCard]:
    emulated = VirtualSocialCard(sample_card(), pcscd.vpcd_port)
    emulated.insert()
    assert eventually(reader.card_present), "pcscd did not see the emulated card"
    yield emulated
    emulated.stop()
    if pcscd.running:  # leave the reader empty for the next test
        assert eventually(lambda: not reader.card_present())


def test_pcscd_lists_both_vpcd_readers(reader):
    assert reader.readers() == ["Virtual PCD 00 00", "Virtual PCD 00 01"]


def test_the_card_atr_is_seen_through_pcscd(card):
    # Given the emulated card in slot 0 / When pyscard connects through pcscd
    connection = pcsc_readers()[0].createConnection()
    connection.connect()
    try:
        # Then the ATR is the emulator's, byte for byte
        assert bytes(connection.getATR()) == DEFAULT_ATR
    finally:
        connection.disconnect()


def test_a_record_read_through_pcscd_is_the_holders_name_tlv(card):
    connection = pcsc_readers()[0].createConnection()
    connection.connect()
    try:
        # Given the application and EF06 selected (the FCI fetched after 61xx)
        _, sw1, sw2 = connection.transmit(list(apdu.select_aid()))
        assert (sw1, sw2) == (0x61, 0x13)
        assert connection.transmit(list(apdu.get_response(sw2)))[1:] == (0x90, 0x00)
        assert connection.transmit(list(apdu.select_ef(apdu.EF06)))[1:] == (0x90, 0x00)
        # When record 2 is read
        data, sw1, sw2 = connection.transmit(list(apdu.read_record(2)))
    finally:
        connection.disconnect()
    # Then it is tag 09, 30 bytes of GBK name padded with 00
    assert (sw1, sw2) == (0x90, 0x00)
    assert apdu.parse_tlv(bytes(data)) == [(0x09, "李秀英".encode("gbk").ljust(30, b"\0"))]


def test_reading_the_card_gives_the_holder(card, reader):
    holder = reader.read_card()
    assert holder == sample_card()
    assert (holder.name, holder.ss_number, holder.card_number) == (
        "李秀英",
        "362424195803120022",
        "G36082417",
    )


async def test_a_visit_takes_its_own_citizens_social_card_and_refuses_anothers(pcscd, reader):
    # Given a visit begun with 王芳's ID card, and 李秀英's social-security card in the reader
    citizen = an_id_card()
    terminal = Terminal(Ports(social_reader=reader), KioskConfig(), today=lambda: dt.date(2026, 11, 23))
    terminal.begin(citizen)
    emulated = VirtualSocialCard(sample_card(), pcscd.vpcd_port)
    try:
        emulated.insert()
        # When the citizen asks for it to be read / Then the kiosk says it is someone else's
        with pytest.raises(CardOfAnotherPerson) as refused:
            await terminal.read_social_card(wait=5)
        assert message_for(refused.value, "zh") == "这张社保卡不是您本人的，请取回；请插入您自己的社保卡"
        assert message_for(refused.value, "en").startswith("This social-security card belongs to someone else")
        # And nothing of that card joined the visit
        assert terminal.session.social_card is None and terminal.display_name == "王芳"
        # When the citizen puts their own card in instead (its number ends in a capital X)
        emulated.remove()
        assert eventually(lambda: not reader.card_present())
        emulated.hold(card_of(citizen))
        emulated.insert()
        # Then it is read through pcscd and kept with the visit
        own = await terminal.read_social_card(wait=5)
        assert (own.ss_number, own.name) == (citizen.id_number, "王芳")
        assert terminal.session.social_card == own
    finally:
        emulated.stop()
        assert eventually(lambda: not reader.card_present())


def test_an_empty_reader_reads_as_no_card(reader):
    assert reader.read_card() is None
    assert reader.health().details["card"] == "absent"


def test_insertion_and_removal_are_reported(pcscd, reader):
    # Given an empty reader
    assert reader.wait_for_change(0.2) is CardEvent.NONE
    emulated = VirtualSocialCard(sample_card(), pcscd.vpcd_port)
    try:
        # When the card goes in, then out
        emulated.insert()
        inserted = reader.wait_for_change(3.0)
        unchanged = reader.wait_for_change(0.3)
        emulated.remove()
        removed = reader.wait_for_change(3.0)
    finally:
        emulated.stop()
    # Then each is one event, and nothing in between
    assert (inserted, unchanged, removed) == (
        CardEvent.INSERTED,
        CardEvent.NONE,
        CardEvent.REMOVED,
    )


def test_a_read_does_not_count_as_a_card_event(card, reader):
    assert reader.wait_for_change(1.0) is CardEvent.INSERTED
    reader.read_card()
    assert reader.wait_for_change(0.5) is CardEvent.NONE


def test_wrong_status_words_raise_a_card_error_naming_them(card, reader):
    card.set_fault("wrong_sw")
    with pytest.raises(CardError, match="6A82 file or application not found"):
        reader.read_card()
    assert reader.health().details["last_error"].startswith("select EF05: 6A82")


def test_a_card_pulled_out_mid_read_raises_card_removed(card, reader):
    # Given a card that leaves right after EF06 is selected
    card.set_fault("remove_mid_read")
    # When read / Then the read fails as "removed" and the reader is empty
    with pytest.raises(CardError, match="card removed during the read"):
        reader.read_card()
    assert not card.inserted
    assert eventually(lambda: not reader.card_present())


def test_a_mute_card_fails_within_the_deadline_without_blocking_other_calls(card, reader):
    # Given a card that answers its ATR but no command
    card.set_fault("mute")
    started = time.monotonic()
    # When read
    with pytest.raises(CardError, match="did not answer within 1.5 s"):
        reader.read_card()
    # Then the read gave up on time, and health still answers, saying what is wrong
    assert time.monotonic() - started < 3.0
    started = time.monotonic()
    health = reader.health()
    assert time.monotonic() - started < 1.0
    assert health.state is HealthState.DEGRADED
    assert "card does not answer" in health.reason
    with pytest.raises(CardError, match="remove and reinsert"):
        reader.read_card()
    # And pulling the card out frees the reader
    card.remove()
    assert eventually(lambda: reader.health().ok)


def test_an_unknown_reader_is_a_fault_naming_the_readers_present(pcscd):
    device = PcscSocialCardReader("Sunrise CR-200")
    health = device.health()
    assert health.state is HealthState.FAULT
    assert health.reason == (
        "card reader 'Sunrise CR-200' not found (present: Virtual PCD 00 00, Virtual PCD 00 01)"
    )
    with pytest.raises(DeviceError, match="not found"):
        device.read_card()


def test_the_emulator_runs_standalone_in_slot_one(pcscd):
    # Given the emulator started as its own process on vpcd's second port
    process = subprocess.Popen(
        [sys.executable, "-m", "peripherals.sscard.emulator", "--port", str(pcscd.vpcd_port + 1)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    device = PcscSocialCardReader("Virtual PCD 00 01")
    try:
        # When the second reader sees it / Then it reads as the sample holder
        assert eventually(device.card_present, timeout=10.0)
        assert device.read_card() == sample_card()
    finally:
        process.terminate()
        process.wait(5)


def test_pcscd_stopped_is_a_fault_and_the_reader_recovers(pcscd, card, reader):
    # Given a reader that works
    assert reader.health().ok
    try:
        # When pcscd stops
        pcscd.stop()
        # Then calls fail with the reason, and health says so
        with pytest.raises(DeviceError, match="pcscd not running"):
            reader.read_card()
        health = reader.health()
        assert (health.state, health.reason) == (
            HealthState.FAULT,
            "pcscd not running (PC/SC service unavailable)",
        )
    finally:
        pcscd.start()
    # And when it is back and the card is in again, the same reader object reads it
    card.insert()
    assert eventually(reader.card_present)
    assert reader.health().ok
    assert reader.read_card() == sample_card()
