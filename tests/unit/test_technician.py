"""The technician's way in (the corner gesture, the PIN and its lock-out) and what the
terminal does for the technician screen: pure logic, with in-memory fakes of the ports."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat

import pytest

from kiosk import selftest
from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import KioskConfig, TechnicianConfig, TerminalConfig
from kiosk.errors import DeviceError, PaperOut, PlatformUnreachable, ValidationError
from kiosk.health import Health
from kiosk.i18n import translate
from kiosk.technician import (
    LOCK_FILE,
    PATTERN,
    PIN_FILE,
    CornerGesture,
    Idle,
    PinLock,
    check_new_pin,
    enrolment_code,
    hash_pin,
    save_pin,
    stored_pin,
    uptime_parts,
    verify_pin,
)
from kiosk.terminal import Ports, Terminal
from tests.fakes import FakeIdReader, FakeSocialReader, an_id_card

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def taps(gesture: CornerGesture, zones, start: float = 100.0, every: float = 0.3,
         press: float = 0.08) -> list[bool]:  # fmt: skip
    """Quick still taps, one every ``every`` s; what the gesture said after each."""
    out = []
    for i, zone in enumerate(zones):
        down = start + i * every
        out.append(gesture.tap(zone, down, down + press))
    return out


# -- the corner gesture --------------------------------------------------------------------


def test_three_taps_right_then_two_left_open_the_pin_pad():
    assert PATTERN == ("right", "right", "right", "left", "left")
    assert taps(CornerGesture(), PATTERN) == [False, False, False, False, True]


def test_tapping_one_corner_again_and_again_never_opens_it():
    # an elderly citizen tapping the clock, fast and many times
    assert not any(taps(CornerGesture(), ["right"] * 40, every=0.15))
    assert not any(taps(CornerGesture(), ["left"] * 40, every=0.15))


def test_a_touch_anywhere_else_in_between_starts_the_count_again():
    g = CornerGesture()
    assert taps(g, ["right", "right", "right", None, "left", "left"]) == [False] * 6
    # a tap in the wrong order is no better
    assert not any(taps(CornerGesture(), ["left", "left", "right", "right", "right"]))
    assert not any(taps(CornerGesture(), ["right", "left", "right", "left", "right"]))


def test_a_fourth_tap_on_the_right_is_forgiven():
    assert taps(CornerGesture(), ["right"] * 4 + ["left"] * 2)[-1] is True


def test_too_slow_does_not_count():
    assert not any(taps(CornerGesture(within=4.0), PATTERN, every=1.2))  # 4.8 s first to last
    assert taps(CornerGesture(within=4.0), PATTERN, every=0.9)[-1] is True  # 3.6 s


def test_a_hold_or_a_drag_is_not_a_tap():
    g = CornerGesture(max_press=0.6, max_travel=40)
    for down, zone in zip((0.0, 0.3, 0.6), ("right",) * 3, strict=True):
        g.tap(zone, down, down + 0.05)
    assert g.tap("left", 1.0, 2.5) is False  # held one and a half seconds
    g = CornerGesture(max_press=0.6, max_travel=40)
    taps(g, ["right"] * 3 + ["left"])
    assert g.tap("left", 101.5, 101.6, travel=120) is False  # a swipe from the corner


def test_after_it_opened_the_count_starts_again():
    g = CornerGesture()
    assert taps(g, PATTERN)[-1] is True
    assert taps(g, ["left"], start=102)[-1] is False
    assert taps(g, PATTERN, start=103)[-1] is True


# -- the PIN --------------------------------------------------------------------------------


def test_a_pin_is_kept_only_as_a_salted_scrypt_hash():
    stored = hash_pin("274951")
    assert "274951" not in stored and stored.startswith("scrypt$")
    assert stored != hash_pin("274951")  # a new salt each time
    assert verify_pin("274951", stored)
    assert not verify_pin("274952", stored)
    assert not verify_pin("", stored)


@pytest.mark.parametrize("stored", ["", "274951", "scrypt$x$8$1$AA==$AA==", "md5$abc",
                                    "scrypt$16384$8$1$not-base64$AA=="])  # fmt: skip
def test_a_stored_value_that_is_no_hash_matches_nothing(stored):
    assert not verify_pin("274951", stored)


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "27495a", "000000", "123456", "987654",
                                 "٢٧٤٩٥١"])  # fmt: skip
def test_short_long_or_guessable_pins_are_refused(pin):
    with pytest.raises(ValidationError) as err:
        check_new_pin(pin)
    assert err.value.message_key == "technician.pin_rule"


def test_set_pin_keeps_the_hash_in_a_0600_file_that_wins_over_the_config(tmp_path):
    cfg = KioskConfig(
        data_dir=str(tmp_path), technician=TechnicianConfig(pin_hash=hash_pin("135792"))
    )
    assert verify_pin("135792", stored_pin(cfg))  # the config's, while no file is there
    path = save_pin(tmp_path, "274951")
    assert path == tmp_path / PIN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "274951" not in path.read_text()
    assert verify_pin("274951", stored_pin(cfg))
    assert not verify_pin("135792", stored_pin(cfg))


def test_a_pin_file_others_can_read_is_ignored(tmp_path):
    path = save_pin(tmp_path, "274951")
    os.chmod(path, 0o644)
    assert stored_pin(KioskConfig(data_dir=str(tmp_path))) == ""  # no PIN: the screen stays shut


def test_the_pin_hash_never_reaches_the_diagnostics_config():
    from kiosk.diagnostics import redacted_config

    stored = hash_pin("274951")
    text = redacted_config(KioskConfig(technician=TechnicianConfig(pin_hash=stored)))
    assert stored not in text and 'pin_hash = "[removed]"' in text


# -- wrong tries and the lock-out -------------------------------------------------------------


def test_five_wrong_pins_lock_the_pad_for_five_minutes_and_tell_the_hall_once():
    lock = PinLock()
    left = [lock.record(False, 10.0 + i).tries_left for i in range(4)]
    assert left == [4, 3, 2, 1]
    fifth = lock.record(False, 14.0)
    assert fifth.just_locked and not fifth.ok and fifth.locked_for == 300
    # While locked even the right PIN is refused, and the hall is not told again
    during = lock.record(True, 100.0)
    assert not during.ok and not during.just_locked and during.locked_for == pytest.approx(214)
    assert lock.locked_for(313.9) > 0
    # Five minutes on, the pad takes PINs again, with five fresh tries
    assert lock.locked_for(314.0) == 0
    assert lock.record(False, 315.0).tries_left == 4


def test_the_right_pin_clears_the_wrong_count():
    lock = PinLock()
    for i in range(4):
        lock.record(False, float(i))
    assert lock.record(True, 5.0).ok
    assert lock.record(False, 6.0).tries_left == 4


class Wall:
    """A wall clock the test moves (PinLock's ``wall``)."""

    def __init__(self, at: float):
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_wrong_tries_and_the_lock_out_outlive_a_power_cycle(tmp_path):
    wall = Wall(1_000_000.0)
    # Given three wrong PINs, then a power cycle (a new PinLock; the monotonic clock restarts)
    lock = PinLock.kept_in(tmp_path, now=50.0, wall=wall)
    for i in range(3):
        lock.record(False, 50.0 + i)
    kept = tmp_path / LOCK_FILE
    assert kept.is_file() and not kept.with_suffix(".tmp").exists()
    after = PinLock.kept_in(tmp_path, now=2.0, wall=wall)
    # Then two tries are left, not five, and the fifth wrong one locks the pad
    assert after.record(False, 3.0).tries_left == 1
    assert after.record(False, 4.0).just_locked
    # When the kiosk is cut off and back a minute later
    wall.at += 60
    again = PinLock.kept_in(tmp_path, now=1.0, wall=wall)
    # Then the lock-out goes on for the four minutes left of it, even to the right PIN
    assert again.locked_for(1.0) == pytest.approx(240)
    assert not again.record(True, 2.0).ok
    # And a clock set back gains nothing: the remainder as written, never more
    wall.at -= 3600
    assert PinLock.kept_in(tmp_path, now=0.0, wall=wall).locked_for(0.0) == pytest.approx(300)
    # When the lock-out has run out (five minutes after it began), five fresh tries
    wall.at += 3600 + 240
    fresh = PinLock.kept_in(tmp_path, now=0.0, wall=wall)
    assert fresh.locked_for(0.0) == 0 and fresh.record(False, 1.0).tries_left == 4


def test_a_right_pin_clears_the_kept_count_and_a_garbled_file_counts_as_none(tmp_path):
    lock = PinLock.kept_in(tmp_path)
    lock.record(False, 1.0)
    lock.record(True, 2.0)
    assert PinLock.kept_in(tmp_path).record(False, 3.0).tries_left == 4
    (tmp_path / LOCK_FILE).write_text("{not json", encoding="utf-8")
    assert PinLock.kept_in(tmp_path).record(False, 4.0).tries_left == 4


# -- the technician's visit ----------------------------------------------------------------------


def test_the_technician_screen_times_out_but_not_while_the_kiosk_works():
    idle = Idle(120.0, now=0.0)
    assert not idle.expired(119.0)
    idle.touch(100.0)
    assert not idle.expired(219.0) and idle.expired(220.0)
    idle.hold = True  # the self-test runs
    assert not idle.expired(1000.0)
    idle.hold = False
    assert not idle.expired(1100.0) and idle.expired(1120.0)


@pytest.mark.parametrize(("typed", "code"), [
    ("3f9a0c21b7e4", "3F9A-0C21-B7E4"), ("3F9A 0C21 B7E4", "3F9A-0C21-B7E4"),
    ("3f9a-0c21-b7e4", "3F9A-0C21-B7E4"), ("ABC123", "ABC123"), ("", "")])  # fmt: skip
def test_an_enrolment_code_typed_without_dashes_is_the_printed_code(typed, code):
    assert enrolment_code(typed) == code


def test_uptime_in_days_hours_minutes():
    assert uptime_parts(0) == (0, 0, 0)
    assert uptime_parts(2 * 86400 + 3 * 3600 + 4 * 60 + 59) == (2, 3, 4)


def a_terminal(**ports) -> tuple[Terminal, list[str]]:
    t = Terminal(Ports(**ports), KioskConfig(terminal=TerminalConfig(id="AF-ZH-0007")),
                 today=lambda: dt.date(2026, 11, 23))  # fmt: skip
    events: list[str] = []
    t.subscribe(events.append)
    return t, events


async def test_the_technician_coming_in_ends_and_wipes_the_citizen_s_visit():
    t, events = a_terminal()
    t.begin(an_id_card())
    t.begin_service()
    assert t.session is None and t.display_name == ""
    assert events[-2:] == ["ended", "servicing"] and t.servicing
    assert t.pending_events()[-1]["end"] == "technician"
    t.end_service()
    assert not t.servicing and events[-1] == "serviced"


async def test_no_card_starts_a_visit_while_the_technician_is_in_nor_after_until_it_is_taken_out():
    reader = FakeIdReader()
    reader.card = an_id_card()  # a test card on the reader for the self-test
    t, _ = a_terminal(id_reader=reader)
    t.begin_service()
    stop = asyncio.Event()
    watching = asyncio.ensure_future(t.wait_for_card(stop, interval=0.01))
    await asyncio.sleep(0.1)
    assert t.session is None and reader.reads == 0  # the self-test has the reader
    t.end_service()
    await asyncio.sleep(0.1)
    assert t.session is None and not watching.done()  # the card left there starts nothing
    reader.card = None
    await asyncio.sleep(0.05)
    reader.card = an_id_card(name="李明")  # the next citizen's card
    card = await asyncio.wait_for(watching, 2)
    assert card.name == "李明" and t.display_name == "李明"


async def test_enrolment_on_the_screen_renames_the_terminal():
    t, events = a_terminal()
    with pytest.raises(DeviceError) as err:
        await t.enrol("3F9A0C21B7E4")
    assert err.value.message_key == "technician.no_enrolment"
    traded: list[str] = []

    async def enroller(code: str) -> tuple[str, str]:  # the platform's side of the trade
        traded.append(code)
        return "T5A0B3C9D2E", "AF-ZH-POINT"

    t.enroller = enroller
    assert await t.enrol("3F9A0C21B7E4") == "T5A0B3C9D2E"
    assert traded == ["3F9A0C21B7E4"] and t.enrolled
    assert t.config.terminal.id == t.base_config.terminal.id == "T5A0B3C9D2E"
    assert events[-1] == "enrolled"


async def test_enrolment_at_another_hall_than_the_config_file_names_takes_the_platform_s(caplog):
    # Given a kiosk whose file says it stands in the Hukeng hall
    catalog = load_catalog(default_catalog_dir())
    cfg = KioskConfig(terminal=TerminalConfig(id="unenrolled", service_point="hukeng",
                                              point_name="浒坑镇便民服务中心"))  # fmt: skip
    t = Terminal(Ports(), cfg, catalog=catalog, today=lambda: dt.date(2026, 11, 23))

    async def enroller(code: str) -> tuple[str, str]:  # enrolled by the office at Zhouhu
        return "T5A0B3C9D2E", "zhouhu"

    t.enroller = enroller
    # When the technician enrols it
    with caplog.at_level("WARNING", logger="kiosk.config"):
        await t.enrol("3F9A0C21B7E4")
    # Then tickets and submissions go out for Zhouhu, the header names Zhouhu,
    # and the log tells the technician to correct the file
    assert t.config.terminal.service_point == t.base_config.terminal.service_point == "zhouhu"
    assert t.point_name_in("zh") == "洲湖镇便民服务中心"
    assert t.point_name_in("en") == "Zhouhu Town Service Centre"
    assert any("'zhouhu'" in r.getMessage() and "'hukeng'" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    # and an enrolment at the hall the file names keeps the file's own header name
    t2 = Terminal(Ports(), cfg, catalog=catalog, today=lambda: dt.date(2026, 11, 23))

    async def same_hall(code: str) -> tuple[str, str]:
        return "T0000000001", "hukeng"

    t2.enroller = same_hall
    await t2.enrol("3F9A0C21B7E4")
    assert t2.config.terminal.point_name == "浒坑镇便民服务中心"
    # and a hall this catalog does not list yet is named by its code, not left blank
    t3 = Terminal(Ports(), cfg, catalog=catalog, today=lambda: dt.date(2026, 11, 23))

    async def new_hall(code: str) -> tuple[str, str]:
        return "T0000000002", "newtown"

    t3.enroller = new_hall
    await t3.enrol("3F9A0C21B7E4")
    assert t3.point_name_in("zh") == t3.point_name_in("en") == "newtown"


class BeatPlatform:
    """The platform port's health and heartbeat, in memory."""

    def __init__(self, down: bool = False):
        self.down = down
        self.beats: list[dict] = []

    async def health(self):
        if self.down:
            raise PlatformUnreachable("connection refused")
        return {"status": "ok", "version": "0.1.0"}

    async def heartbeat(self, devices, **fields):
        if self.down:
            raise PlatformUnreachable("connection refused")
        self.beats.append({"devices": list(devices), **fields})
        return {}


async def test_the_self_test_is_kept_for_diagnostics_and_sent_as_a_selftest_beat(tmp_path):
    platform = BeatPlatform()
    reader = FakeIdReader()
    t = Terminal(Ports(id_reader=reader, platform=platform), KioskConfig(data_dir=str(tmp_path)))
    report = await selftest.run_and_report(t, NOW, "0.1.0", uptime=42)
    assert [(c.device, c.passed) for c in report.checks] == [("idcard", True), ("platform", True)]
    assert report.passed and report.sent and not report.not_kept
    beat = platform.beats[-1]
    assert beat["screen"] == "selftest" and beat["uptime"] == 42
    assert beat["devices"] == [Health.good("idcard"), Health.good("platform")]
    assert (tmp_path / "selftest-last.json").exists()


async def test_a_self_test_that_cannot_reach_the_platform_says_so(tmp_path):
    t = Terminal(Ports(platform=BeatPlatform(down=True)), KioskConfig(data_dir=str(tmp_path)))
    report = await selftest.run_and_report(t, NOW, "0.1.0")
    assert not report.passed and not report.sent and "refused" in report.not_sent
    assert "refused" in report.checks[0].detail


async def test_a_platform_that_refuses_this_terminal_fails_the_platform_check(tmp_path):
    from kiosk.errors import PlatformRejected

    class Refusing(BeatPlatform):  # reachable (its /health answers), and the clock is off
        async def heartbeat(self, devices, **fields):
            raise PlatformRejected("HTTP 401", status=401, message_key="auth.stale")

    t = Terminal(Ports(platform=Refusing()), KioskConfig(data_dir=str(tmp_path)))
    report = await selftest.run_and_report(t, NOW, "0.1.0")
    [check] = report.checks
    assert check.device == "platform" and not check.passed and not report.sent
    assert "401 auth.stale" in check.text("zh") and "时钟" in check.text("zh")
    assert "refused this terminal" in check.detail


class OutOfPaper:
    name = "printer"

    def print_receipt(self, receipt) -> None:
        raise PaperOut("paper end sensor")

    def close(self) -> None:
        pass


class SilentSocialReader(FakeSocialReader):
    def health(self) -> Health:
        return Health.fault(self.name, "no answer")


async def test_each_check_is_said_in_the_screens_language_and_in_english_for_the_dashboard():
    ports = Ports(id_reader=FakeIdReader(), social_reader=SilentSocialReader(),
                  printer=OutOfPaper(), platform=BeatPlatform())  # fmt: skip
    checks = await selftest.run(Terminal(ports, KioskConfig()), NOW)
    said = {c.device: (c.text("zh"), c.text("en"), c.detail) for c in checks}
    # The technician screen in Chinese says what was done or went wrong in Chinese,
    # with the driver's own words beside a failure
    assert said["idcard"][0] == translate("selftest.no_card") == "读卡器应答正常，读卡区没有卡"
    assert said["sscard"][0] == "设备故障（DeviceError：no answer）"
    assert said["printer"][0] == "打印机缺纸（PaperOut：paper end sensor）"
    assert said["platform"][0] == "已连通平台，平台版本 0.1.0"
    # And in English the same as the table and the dashboard get
    assert said["idcard"][1] == said["idcard"][2] == "reader answers; no card on it"
    assert said["printer"][1] == said["printer"][2] == "paper out (PaperOut: paper end sensor)"
    health = {h.device: h for h in selftest.as_health(checks)}
    assert health["printer"] == Health.fault("printer", "paper out (PaperOut: paper end sensor)")
    table = selftest.table(checks)
    assert "PASS" in table and "device fault (DeviceError: no answer)" in table


def test_kiosk_set_pin_keeps_a_hash_or_prints_one_for_the_config(tmp_path, capsys):
    from kiosk.cli import set_pin
    from kiosk.config import load_config

    cfg = KioskConfig(data_dir=str(tmp_path / "data"))
    assert set_pin(cfg, "274951", print_hash=False) == 0
    assert verify_pin("274951", stored_pin(cfg))
    assert set_pin(cfg, "111111", print_hash=False) == 2  # refused; the old PIN stays
    assert verify_pin("274951", stored_pin(cfg))
    capsys.readouterr()
    assert set_pin(cfg, "135792", print_hash=True) == 0
    toml = tmp_path / "kiosk.toml"
    toml.write_text(capsys.readouterr().out)
    assert verify_pin("135792", load_config(toml).technician.pin_hash)


def test_root_is_told_to_write_a_kiosk_s_pin_or_enrolment_as_the_kiosk_s_user(tmp_path):
    import os

    from kiosk.cli import not_as_root

    kiosk_data = tmp_path / "kiosk"
    kiosk_data.mkdir()
    desk = tmp_path / "desk"  # root's own (a desk, the demo): nothing to say
    desk.mkdir()
    assert not_as_root(KioskConfig(data_dir=str(desk))) == ""
    if os.geteuid() != 0:
        return  # (the rest is what root is told)
    os.chown(kiosk_data, 65534, 65534)  # the kiosk's user owns its data dir
    said = not_as_root(KioskConfig(data_dir=str(kiosk_data)))
    assert "sudo -u" in said and str(kiosk_data) in said


def test_the_shell_s_selftest_knows_a_kiosk_is_running_on_its_data_dir(tmp_path):
    from kiosk.cli import hold_running, kiosk_running

    assert not kiosk_running(tmp_path)
    held = hold_running(tmp_path)  # the running kiosk's (another process's, in life)
    try:
        assert kiosk_running(tmp_path) and hold_running(tmp_path) is None
    finally:
        held.close()
    assert not kiosk_running(tmp_path)
