"""The ID card driver against the byte-exact emulator over a real pty pair."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest
import serial

from client.platform import _device
from kiosk.config import KioskConfig
from kiosk.errors import CardError, CardExpired, DeviceError
from kiosk.health import HealthState
from kiosk.identity import CardType
from kiosk.terminal import Ports, Terminal
from peripherals.idcard import protocol as p
from peripherals.idcard.cards import sample_cards
from peripherals.idcard.driver import ReaderTimeout, SerialIdCardReader, check_valid
from peripherals.idcard.emulator import IdCardReaderEmulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

VALID, EXPIRED, LONG_TERM, FOREIGNER, HMT = range(5)
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def emulator():
    emu = IdCardReaderEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def reader(emulator):
    drv = SerialIdCardReader(emulator.path, reply_timeout=0.3)
    yield drv
    drv.close()


@pytest.fixture
def raw_port(emulator):
    """The emulator's line opened directly, to check its bytes without the driver."""
    port = serial.Serial(emulator.path, 115200, timeout=0.5)
    yield port
    port.close()


@pytest.fixture
def later():
    """Run a call after a delay on a timer thread; every timer is stopped at teardown."""
    timers: list[threading.Timer] = []

    def schedule(delay, fn, *args):
        timer = threading.Timer(delay, fn, args=args)
        timers.append(timer)
        timer.start()

    yield schedule
    for timer in timers:
        timer.cancel()
        timer.join(5)


def exchange(port: serial.Serial, frame: bytes) -> bytes:
    port.reset_input_buffer()
    port.write(frame)
    head = port.read(7)
    return head + port.read(int.from_bytes(head[5:7], "big")) if len(head) == 7 else head


# -- every command -------------------------------------------------------------------


def test_reset_and_sam_status_succeed_and_health_is_ok(reader):
    reader.reset()
    reader.sam_status()
    health = reader.health()
    assert health.state is HealthState.OK and health.details["port"] == reader.port


def test_sam_id_is_read_and_formatted(reader, emulator):
    assert (
        reader.sam_id() == p.format_sam_id(emulator.sam_id) == "05.01-20151005-000347659-015705057"
    )
    assert reader.health().details["sam_id"] == "05.01-20151005-000347659-015705057"


def test_find_card_tells_a_card_on_the_reader_from_an_empty_reader(reader, emulator):
    assert reader.find_card() is False
    emulator.insert(VALID)
    assert reader.find_card() is True
    emulator.remove()
    assert reader.find_card() is False


def test_select_after_find_gives_eight_serial_bytes_and_without_a_card_fails(reader, emulator):
    with pytest.raises(CardError, match="0x81"):
        reader.select_card()
    emulator.insert(VALID)
    assert reader.find_card()
    assert reader.select_card() == bytes(8)


def test_read_text_and_photo_over_the_pty_gives_the_citizens_name_and_id_number(reader, emulator):
    # Given 张伟's card on the reader
    emulator.insert(VALID)
    # When the kiosk reads it
    card = reader.read_card()
    # Then the name and ID number come through the pty intact, and the photo block too
    assert card.name == "张伟"
    assert card.id_number == "362425198503121234"
    assert card.address == "江西省吉安市安福县平都镇城北路28号"
    assert card.photo == sample_cards()[VALID].photo and len(card.photo) == 1024


def test_photo_bytes_of_every_value_pass_the_pty_untouched(reader, emulator):
    # Given a photo block holding 0x0D, 0x0A, 0x11, 0x13 and every other byte
    emulator.insert(VALID)
    assert reader.find_card() and reader.select_card() is not None
    # When read raw
    data = reader.read_raw()
    # Then nothing was translated by the tty layer
    assert set(data.photo) == set(range(256))
    assert data.photo == sample_cards()[VALID].photo and len(data.text) == 256


def test_read_text_photo_and_fingerprint_returns_three_blocks(reader, emulator):
    emulator.insert(VALID)
    reader.find_card()
    reader.select_card()
    data = reader.read_raw(fingerprint=True)
    assert (len(data.text), len(data.photo), len(data.fingerprint)) == (256, 1024, 1024)


def test_read_without_select_is_refused_as_a_card_error(reader, emulator):
    emulator.insert(VALID)
    with pytest.raises(CardError, match="0x41"):
        reader.read_raw()


def test_no_card_means_none_not_an_error(reader):
    assert reader.read_card() is None
    assert reader.health().ok


def test_read_card_with_a_timeout_picks_up_a_card_laid_down_while_polling(reader, emulator, later):
    later(0.4, emulator.insert, LONG_TERM)
    started = time.monotonic()
    card = reader.read_card(timeout=3.0)
    assert card is not None and card.name == "雷金凤"
    assert 0.3 < time.monotonic() - started < 2.0


def test_an_expired_card_is_read_and_check_valid_refuses_it_with_a_clear_key(reader, emulator):
    emulator.insert(EXPIRED)
    card = reader.read_card()
    assert card.name == "李秀英" and card.valid_to == dt.date(2024, 8, 15)
    with pytest.raises(CardExpired) as caught:
        check_valid(card, TODAY)
    assert caught.value.message_key == "error.card_expired"
    assert "2024-08-15" in caught.value.detail


def test_a_long_term_card_is_valid_for_ever(reader, emulator):
    emulator.insert(LONG_TERM)
    card = reader.read_card()
    assert card.valid_to is None and card.nation == "22"
    assert check_valid(card, dt.date(2080, 1, 1)) is card


def test_foreigner_and_residence_permit_cards_are_told_apart(reader, emulator):
    emulator.insert(FOREIGNER)
    card = reader.read_card()
    assert card.card_type is CardType.FOREIGNER
    assert card.english_name == "WILLIAMSON-HARGREAVES, JONATHAN MICHAEL"
    assert card.nationality == "USA" and card.id_number == "936840198807150013"
    emulator.insert(HMT)
    assert reader.read_card().card_type is CardType.HMT_RESIDENCE


def test_changing_the_baud_rate_switches_both_ends_and_reads_still_work(reader, emulator):
    emulator.insert(VALID)
    reader.set_baudrate(57600)
    assert emulator.baudrate == 57600 and reader.baudrate == 57600
    started = time.monotonic()
    assert reader.read_card().name == "张伟"
    # Then the reply really took its wire time at the slower rate (1295 bytes * 10 / 57600)
    assert time.monotonic() - started >= 1295 * 10 / 57600
    with pytest.raises(ValueError):
        reader.set_baudrate(12345)


# -- the emulator's bytes, exactly --------------------------------------------------


def test_emulator_answers_find_with_the_reference_bytes(raw_port, emulator):
    pre = "AA AA AA 96 69 "
    assert exchange(raw_port, p.build_request(*p.FIND_CARD)) == bytes.fromhex(
        pre + "00 04 00 00 80 84"
    )
    emulator.insert(VALID)
    assert exchange(raw_port, p.build_request(*p.FIND_CARD)) == bytes.fromhex(
        pre + "00 08 00 00 9F 00 00 00 00 97"
    )
    assert exchange(raw_port, p.build_request(*p.SELECT_CARD)) == bytes.fromhex(
        pre + "00 0C 00 00 90" + " 00" * 8 + " 9C"
    )
    reply = exchange(raw_port, p.build_request(*p.READ_TEXT_PHOTO))
    assert len(reply) == 1295 and reply[5:10] == bytes.fromhex("05 08 00 00 90")
    assert reply[10:14] == bytes.fromhex("01 00 04 00")


@pytest.mark.parametrize(
    ("frame", "sw3"),
    [
        (bytes.fromhex("AA AA AA 96 69 00 03 20 01 23"), 0x10),  # checksum off by one
        (bytes.fromhex("AA AA AA 96 69 00 01 20"), 0x11),  # a length no request can have
        (p.build_request(0x55, 0x01), 0x21),  # no such command
        (p.build_request(0x60, 0x09), 0x21),  # no such baud rate
    ],
)
def test_emulator_answers_a_bad_host_frame_with_the_reader_status(raw_port, frame, sw3):
    reply = exchange(raw_port, frame)
    assert p.FrameParser().feed(reply) == [p.Response(0, 0, sw3)]


# -- every fault mode -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "message", "state"),
    [
        ("corrupt_frame", DeviceError, "garbled", HealthState.DEGRADED),
        ("bad_checksum", DeviceError, "checksum", HealthState.DEGRADED),
        ("timeout", ReaderTimeout, "did not answer", HealthState.FAULT),
        ("partial_frame", DeviceError, "partial frame", HealthState.DEGRADED),
        ("unplugged", DeviceError, "disconnected", HealthState.FAULT),
    ],
)
def test_a_misbehaving_reader_raises_a_clear_device_error_then_recovers(
    reader, emulator, fault, error, message, state
):
    # Given a card on a reader that worked
    emulator.insert(VALID)
    assert reader.read_card().name == "张伟"
    # When the reader misbehaves
    emulator.set_fault(fault)
    started = time.monotonic()
    with pytest.raises(error, match=message):
        reader.read_card()
    # Then the call gave up in bounded time and health says what is wrong
    assert time.monotonic() - started < 1.5
    health = reader.health()
    assert health.state is state and health.reason
    assert "张伟" not in health.reason and "362425" not in health.reason
    # And once it behaves again, the next read works
    emulator.set_fault(None)
    assert reader.read_card().id_number == "362425198503121234"


def test_no_card_fault_reads_as_no_card(reader, emulator):
    emulator.insert(VALID)
    emulator.set_fault("no_card")
    assert reader.read_card() is None
    assert reader.health().ok


def test_an_unplugged_reader_is_a_fault_until_it_comes_back_under_the_same_name(reader, emulator):
    emulator.insert(VALID)
    assert reader.read_card() is not None
    emulator.unplug()
    with pytest.raises(DeviceError, match="disconnected"):
        reader.read_card()
    # while it is gone, the port cannot even be opened, and health says so
    with pytest.raises(DeviceError, match="cannot open"):
        reader.read_card()
    health = reader.health()
    assert health.state is HealthState.FAULT and "cannot open" in health.reason
    # When it is plugged back in (a new pty behind the same path)
    emulator.replug()
    # Then the driver reopens it by itself
    assert reader.read_card().name == "张伟"
    assert reader.health(max_age=0).state is HealthState.OK


def test_health_goes_back_to_ok_after_enough_clean_exchanges(reader, emulator):
    emulator.set_fault("bad_checksum")
    with pytest.raises(DeviceError):
        reader.find_card()
    emulator.set_fault(None)
    assert reader.find_card() is False
    assert reader.health().state is HealthState.DEGRADED
    for _ in range(20):
        reader.find_card()
    assert reader.health().state is HealthState.OK


def test_health_answers_at_once_while_a_read_is_stuck(emulator):
    # Given a read waiting on a silent reader in a worker thread
    reader = SerialIdCardReader(emulator.path, reply_timeout=1.5)
    emulator.set_fault("timeout")
    outcome: list[BaseException] = []

    def read():
        try:
            reader.read_card()
        except DeviceError as err:
            outcome.append(err)

    worker = threading.Thread(target=read)
    worker.start()
    try:
        time.sleep(0.1)
        # When the heartbeat asks for health
        started = time.monotonic()
        reader.health(max_age=0)
        # Then it answers from what it knows, without waiting for the read
        assert time.monotonic() - started < 0.2
    finally:
        worker.join(5)
        reader.close()
    assert not worker.is_alive() and isinstance(outcome[0], ReaderTimeout)


def test_wait_for_card_sleeps_between_polls_and_stops_when_asked(reader, emulator, later):
    stop = threading.Event()
    later(0.3, stop.set)
    started = time.monotonic()
    assert reader.wait_for_card(stop, interval=0.1) is None
    assert time.monotonic() - started < 1.0
    requests_before = emulator.requests
    stop.clear()
    later(0.35, emulator.insert, VALID)
    assert reader.wait_for_card(stop, interval=0.1).name == "张伟"
    # about one find per interval, not a busy loop
    assert emulator.requests - requests_before < 12


def test_a_closed_driver_refuses_calls_and_reports_it(emulator):
    reader = SerialIdCardReader(emulator.path, reply_timeout=0.3)
    reader.close()
    with pytest.raises(DeviceError, match="closed"):
        reader.read_card()
    assert reader.health().state is HealthState.FAULT
    reader.close()


def test_a_port_that_never_existed_is_a_fault_naming_the_port(tmp_path):
    missing = str(tmp_path / "kiosk-idcard")
    reader = SerialIdCardReader(missing, reply_timeout=0.2)
    try:
        with pytest.raises(DeviceError, match="cannot open"):
            reader.read_card()
        health = reader.health()
        assert health.state is HealthState.FAULT and missing in health.reason
    finally:
        reader.close()


def test_closing_the_driver_ends_a_read_stuck_on_a_silent_reader_promptly(emulator):
    # Given a worker thread waiting on a reader that never answers
    reader = SerialIdCardReader(emulator.path, reply_timeout=5.0)
    emulator.set_fault("timeout")
    outcome: list[BaseException] = []

    def read():
        try:
            reader.read_card()
        except DeviceError as err:
            outcome.append(err)

    worker = threading.Thread(target=read)
    worker.start()
    time.sleep(0.1)
    # When the kiosk shuts down
    started = time.monotonic()
    reader.close()
    worker.join(5)
    # Then the worker is released well before the reply timeout, with a DeviceError
    assert not worker.is_alive() and time.monotonic() - started < 1.0
    assert "closed" in outcome[0].detail


# -- a reader failing card after card is reported to the hall ------------------------
# The real terminal watching for cards: each damaged read counts once per card (not once
# per poll); three within the hour turn the reader amber with a reason a technician can
# act on, and the count rides on the heartbeat.


async def until(check, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_cards_failing_one_after_another_turn_the_reader_amber_with_the_count(emulator):
    reader = SerialIdCardReader(emulator.path, reply_timeout=0.3)
    terminal = Terminal(Ports(id_reader=reader), KioskConfig(), today=lambda: dt.date(2026, 11, 23))
    stop = asyncio.Event()
    watching = asyncio.ensure_future(terminal.wait_for_card(stop, interval=0.05))
    try:
        for n in (1, 2, 3):
            # Given a citizen lays a card the reader cannot read cleanly
            emulator.insert(0)
            emulator.set_fault("corrupt_frame")
            await until(lambda n=n: terminal.failed_reads.count(reader.name, time.monotonic()) == n,
                        f"failure {n} counted")  # fmt: skip
            # the reader keeps trying the same card: still one failure for it
            await asyncio.sleep(0.4)
            assert terminal.failed_reads.count(reader.name, time.monotonic()) == n
            # When they take it away (the reader answers cleanly again: no card)
            emulator.set_fault(None)
            emulator.remove()
            await asyncio.sleep(0.3)
            if n < 3:
                health = (await terminal.device_health())[0]
                assert health.details["failed_reads"] == str(n)
        # Then after the third card the reader is amber, saying what to do, with the count
        health = (await terminal.device_health())[0]
        assert health.state is HealthState.DEGRADED
        assert "3 cards not read" in health.reason and "clean the reader" in health.reason
        beat = _device(health)
        assert beat["failed_reads"] == "3" and beat["state"] == "degraded"
        # And a good card is still read and starts a visit: the count never blocks anyone
        emulator.insert(0)
        card = await asyncio.wait_for(watching, 10)
        assert card is not None and card.id_number.startswith("362425")
    finally:
        stop.set()
        watching.cancel()
        reader.close()
