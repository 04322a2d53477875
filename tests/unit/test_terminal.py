import asyncio
import datetime as dt

import pytest

from kiosk.config import KioskConfig
from kiosk.errors import CardError, CardExpired, CardOfAnotherPerson, DeviceError, NoCard
from kiosk.identity import Gender, SocialSecurityCard
from kiosk.terminal import Ports, Terminal
from tests.fakes import FakeIdReader, FakeSocialReader, an_id_card

TODAY = dt.date(2026, 11, 23)


def terminal(**ports) -> tuple[Terminal, list[str]]:
    t = Terminal(Ports(**ports), KioskConfig(), today=lambda: TODAY)
    events: list[str] = []
    t.subscribe(events.append)
    return t, events


async def test_a_valid_id_card_starts_a_visit_holding_the_citizen():
    reader = FakeIdReader()
    reader.card = an_id_card()
    t, events = terminal(id_reader=reader)
    card = await asyncio.wait_for(t.wait_for_card(asyncio.Event(), interval=0.01), 2)
    assert card.name == "王芳"
    assert t.display_name == "王芳"
    assert events == ["visit"]


async def polled(reader: FakeIdReader, reads: int = 5):
    """(terminal, its events) once it has polled ``reader`` ``reads`` times and stopped,
    no visit begun (its wait_for_card came back empty)."""
    t, events = terminal(id_reader=reader)
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_card(stop, interval=0.01))
    while reader.reads < reads:
        await asyncio.sleep(0.01)
    stop.set()
    assert await task is None
    return t, events


async def test_an_expired_card_is_reported_once_and_starts_no_visit():
    # Given an expired card lying on the reader
    reader = FakeIdReader()
    reader.card = an_id_card(valid_to=dt.date(2026, 1, 1))
    # When the terminal polls for a while
    t, events = await polled(reader)
    # Then the citizen is told once, and nobody's data is held
    assert events == ["error:error.card_expired"]
    assert t.session is None


async def test_a_long_term_card_never_expires():
    reader = FakeIdReader()
    reader.card = an_id_card(valid_to=None)
    t, _ = terminal(id_reader=reader)
    assert await asyncio.wait_for(t.wait_for_card(asyncio.Event(), interval=0.01), 2)


async def test_an_unreadable_card_is_reported_and_polling_goes_on():
    reader = FakeIdReader()
    reader.fault = CardError("read failed", message_key="error.card_unreadable")
    t, events = terminal(id_reader=reader)
    task = asyncio.ensure_future(t.wait_for_card(asyncio.Event(), interval=0.01))
    while reader.reads < 3:
        await asyncio.sleep(0.01)
    reader.fault, reader.card = None, an_id_card()
    assert (await asyncio.wait_for(task, 2)).name == "王芳"
    assert events == ["error:error.card_unreadable", "visit"]


async def test_a_driver_s_own_defect_is_an_unreadable_card_and_polling_goes_on():
    # Given a reader whose driver fails as no KioskError does (a defect, on one odd card)
    reader = FakeIdReader()
    reader.fault = IndexError("string index out of range")
    t, events = terminal(id_reader=reader)
    task = asyncio.ensure_future(t.wait_for_card(asyncio.Event(), interval=0.01))
    while reader.reads < 3:
        await asyncio.sleep(0.01)
    # Then the kiosk is not deaf from then on: the next card starts a visit
    assert not task.done()
    reader.fault, reader.card = None, an_id_card()
    assert (await asyncio.wait_for(task, 2)).name == "王芳"
    assert events == ["error:error.card_unreadable", "visit"]


async def test_a_card_whose_number_fails_its_check_starts_no_visit_and_says_where_to_go():
    from dataclasses import replace

    # Given a resident card whose chip holds a number with a wrong check digit
    reader = FakeIdReader()
    reader.card = replace(an_id_card(), id_number="362429199005010049")
    t, events = await polled(reader)
    # Then no visit begins (its form would stop at "Next" on a field nobody can edit), and
    # the citizen is told once to go to a window
    assert t.session is None
    assert events == ["error:error.card_number_invalid"]
    # and the reader, which read it well, is not reported as failing card after card
    import time

    assert t.failed_reads.count("idcard", time.monotonic()) == 0


async def test_a_social_security_card_s_first_generation_number_is_not_refused():
    # (15 digits: the form does not take it, but tickets, progress and records do)
    social = FakeSocialReader(SocialSecurityCard("362429900501002", "王芳", Gender.FEMALE,
                                                 dt.date(1990, 5, 1)))  # fmt: skip
    t, events = terminal(social_reader=social)
    assert await asyncio.wait_for(t.wait_for_card(asyncio.Event(), interval=0.01), 2)
    assert events == ["visit"]


@pytest.mark.parametrize("which", [3, 4], ids=["foreigner-2023", "hong-kong-permit"])
async def test_a_foreign_permanent_resident_s_card_or_a_residence_permit_starts_a_visit(which):
    from kiosk.catalog import FieldDef, FieldType
    from kiosk.catalog.model import Bilingual
    from kiosk.form import Form
    from peripherals.idcard.cards import sample_cards

    # Given a card whose number's first digits are no county (9…, 810000…)
    card = sample_cards()[which]
    reader = FakeIdReader()
    reader.card = card
    t, events = terminal(id_reader=reader)
    # Then it begins a visit like any other
    assert await asyncio.wait_for(t.wait_for_card(asyncio.Event(), interval=0.01), 2) == card
    assert events == ["visit"]
    # and its number, filled into a form, passes (it stopped the citizen at "Next")
    field = FieldDef("applicant_id_number", Bilingual("身份证号码", "ID number"), FieldType.ID_NUMBER,
                     "applicant", prefill="id_number")  # fmt: skip
    form = Form((field,), {})
    assert form.validate(form.prefill(card), dt.date(2026, 12, 7)) == {}


async def test_two_readers_failing_differently_are_each_reported_once_not_every_poll():
    # Given an expired ID card left on its reader and the social-security reader gone
    class Unplugged(FakeSocialReader):
        def read_card(self):
            raise DeviceError("sscard: no reader", message_key="error.reader_fault")

    ids = FakeIdReader()
    ids.fault = CardExpired("card validity date has passed")
    t, events = terminal(id_reader=ids, social_reader=Unplugged())
    task = asyncio.ensure_future(t.wait_for_card(asyncio.Event(), interval=0.01))
    while ids.reads < 20:
        await asyncio.sleep(0.01)
    # Then each is said once (a warning a poll filled the log in minutes, the screen flickered)
    assert sorted(events) == sorted({f"error:{ids.fault.message_key}", "error:error.reader_fault"})
    # And once the expired card is taken away and comes back, it is said again
    ids.fault = None
    await asyncio.sleep(0.05)
    ids.fault = CardExpired("card validity date has passed")
    while events.count(f"error:{ids.fault.message_key}") < 2:
        await asyncio.sleep(0.01)
    task.cancel()


async def test_ending_the_visit_wipes_every_personal_datum():
    ss = SocialSecurityCard("362429199005010048", "王芳", Gender.FEMALE, dt.date(1990, 5, 1))
    reader = FakeIdReader()
    reader.card = an_id_card()
    t, events = terminal(id_reader=reader, social_reader=FakeSocialReader(ss))
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    await t.read_social_card()
    assert t.session.social_card.name == "王芳"
    session = t.session
    t.end()
    assert t.session is None
    assert not session.holds_personal_data()
    assert events[-1] == "ended"


async def test_reading_an_empty_social_card_reader_says_no_card():
    t, _ = terminal(social_reader=FakeSocialReader(None))
    with pytest.raises(NoCard):
        await t.read_social_card(wait=0.05, interval=0.01)


async def test_a_social_card_of_someone_else_joins_nobodys_visit():
    # Given a visit begun with 王芳's ID card (its check digit X), and her mother's
    # social-security card inserted
    from dataclasses import replace

    reader = FakeIdReader()
    reader.card = replace(an_id_card(), id_number="11010519491231002X")
    mother = SocialSecurityCard("362424195803120022", "李秀英", Gender.FEMALE, dt.date(1958, 3, 12))
    social = FakeSocialReader(mother)
    t, events = terminal(id_reader=reader, social_reader=social)
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    # When it is read / Then the kiosk says whose it is not, and keeps nothing of it
    with pytest.raises(CardOfAnotherPerson):
        await t.read_social_card(wait=0.05, interval=0.01)
    assert t.session.social_card is None and t.display_name == "王芳"
    # And her own card, its check digit typed in lower case by its issuer, is hers
    social.card = SocialSecurityCard("11010519491231002x", "王芳", Gender.FEMALE, dt.date(1990, 5, 1))
    assert (await t.read_social_card(wait=0.05, interval=0.01)).name == "王芳"
    assert t.session.social_card is social.card


async def test_an_expired_social_card_read_in_a_visit_is_explained_and_not_kept():
    reader = FakeIdReader()
    reader.card = an_id_card()
    t, _ = terminal(id_reader=reader, social_reader=FakeSocialReader(a_social_card(dt.date(2026, 1, 1))))
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    with pytest.raises(CardExpired):
        await t.read_social_card(wait=0.05, interval=0.01)
    assert t.session.social_card is None


async def test_a_social_card_inserted_while_waiting_is_read():
    ss = SocialSecurityCard("362429199005010048", "王芳", Gender.FEMALE, dt.date(1990, 5, 1))
    reader = FakeSocialReader(None)
    t, _ = terminal(social_reader=reader)
    task = asyncio.ensure_future(t.read_social_card(wait=2, interval=0.01))
    await asyncio.sleep(0.05)
    reader.card = ss
    assert (await asyncio.wait_for(task, 2)).name == "王芳"


async def test_waiting_for_removal_returns_once_the_card_is_lifted():
    reader = FakeIdReader()
    reader.card = an_id_card()
    t, events = terminal(id_reader=reader)
    task = asyncio.ensure_future(t.wait_for_cards_removed(asyncio.Event(), interval=0.01))
    await asyncio.sleep(0.05)
    assert not task.done()
    # the goodbye screen can tell which card is still there, and hears when that changes
    assert t.cards_left == ["id_card"] and events == ["cards_left"]
    reader.card = None
    await asyncio.wait_for(task, 2)
    assert t.cards_left == [] and events == ["cards_left", "cards_left"]


class StaffCalls:
    """The platform as the card-left reports see it: calls for staff, and calls over."""

    def __init__(self, down: bool = False):
        self.calls: list[str] = []
        self.over: list[str] = []
        self.down = down

    async def call_staff(self, screen):
        from kiosk.errors import PlatformError

        if self.down:
            raise PlatformError("platform unreachable")
        self.calls.append(screen)

    async def help_over(self, screen):
        self.over.append(screen)


async def until_true(condition, within: float = 5.0) -> None:
    """Until ``condition()`` holds; fails after ``within`` seconds with what it was."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition did not come to hold"
        await asyncio.sleep(0.01)


def card_left_on(platform: StaffCalls, card_left: float) -> tuple[Terminal, FakeIdReader, asyncio.Future]:
    """A terminal with a card left on its reader, the kiosk waiting ``card_left`` seconds
    for it, and its watch of the readers running."""
    from dataclasses import replace

    reader = FakeIdReader()
    reader.card = an_id_card()
    config = KioskConfig()
    config = replace(config, timeouts=replace(config.timeouts, card_left=card_left))
    t = Terminal(Ports(id_reader=reader, platform=platform), config, today=lambda: TODAY)
    return t, reader, asyncio.ensure_future(t.wait_for_cards_removed(asyncio.Event(), interval=0.01))


async def test_a_card_left_behind_is_reported_to_the_hall_as_nobody_in_particular():
    from kiosk.session import CARD_LEFT_HELP

    # Given a card left on the reader after a visit, on a kiosk that waits 0.5 s for it
    platform = StaffCalls()
    t, reader, task = card_left_on(platform, 0.5)
    await asyncio.sleep(0.05)
    assert platform.calls == []  # not yet: they may come back for it
    # Then the hall is told once (which terminal is in the signature; no name, no number)
    await until_true(lambda: platform.calls != [])
    assert platform.calls == [CARD_LEFT_HELP] and platform.over == []
    # When the citizen comes back for it, the hall hears that too: nobody need come
    reader.card = None
    await asyncio.wait_for(task, 2)
    await until_true(lambda: platform.over != [])
    assert platform.over == [CARD_LEFT_HELP]
    platform.down = True  # not reported: said so in the log, and nothing else fails
    assert await t.report_card_left() is False


async def test_a_card_left_the_hall_did_not_hear_of_is_told_again(monkeypatch):
    from kiosk import terminal as terminal_module
    from kiosk.session import CARD_LEFT_HELP

    monkeypatch.setattr(terminal_module, "CARD_REPORT_AGAIN", 0.1)
    # Given the platform away when the card is taken for forgotten
    platform = StaffCalls(down=True)
    t, reader, task = card_left_on(platform, 0.05)
    await asyncio.sleep(0.1)
    assert t.card_forgotten and platform.calls == []
    # When it is back, the hall hears of it at the next try, and once
    platform.down = False
    await asyncio.sleep(0.4)
    assert platform.calls == [CARD_LEFT_HELP]
    reader.card = None
    await asyncio.wait_for(task, 2)
    assert not t.card_forgotten


async def test_both_cards_left_are_named_and_nothing_is_said_to_be_left_once_unwatched():
    ss = SocialSecurityCard("362429199005010048", "王芳", Gender.FEMALE, dt.date(1990, 5, 1))
    ids, social = FakeIdReader(), FakeSocialReader(ss)
    ids.card = an_id_card()
    t, _ = terminal(id_reader=ids, social_reader=social)
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_cards_removed(stop, interval=0.01))
    # (each look at the readers runs in a thread: waited for, not slept for, as a loaded
    # machine takes longer than a fixed sleep)
    await until_true(lambda: t.cards_left == ["id_card", "social_card"])
    ids.card = None
    await until_true(lambda: t.cards_left == ["social_card"])
    stop.set()  # the kiosk stopping: no longer watched
    await asyncio.wait_for(task, 2)
    assert t.cards_left == []


async def test_a_reader_at_fault_does_not_keep_the_kiosk_waiting_for_a_card_to_be_lifted():
    # Given the ID card lifted after a visit, and the social-security reader unplugged
    class Unplugged(FakeSocialReader):
        def read_card(self):
            raise DeviceError("sscard: no reader (pcscd has none)")

    ids = FakeIdReader()
    t, _ = terminal(id_reader=ids, social_reader=Unplugged())
    # Then the kiosk is ready for the next citizen, not waiting for ever
    await asyncio.wait_for(t.wait_for_cards_removed(asyncio.Event(), interval=0.01), 2)
    # But a card that is there and does not read is still waited for
    ids.fault = CardError("idcard: unreadable")
    task = asyncio.ensure_future(t.wait_for_cards_removed(asyncio.Event(), interval=0.01))
    await asyncio.sleep(0.05)
    assert not task.done()
    ids.fault = None
    await asyncio.wait_for(task, 2)


def test_personal_data_is_masked_in_reprs():
    text = repr(an_id_card())
    assert "王芳" not in text and "362429199005010048" not in text


class BeatRecorder:
    def __init__(self):
        self.beats: list[str] = []

    async def heartbeat(self, devices, *, software_version, screen, paper, **reported):
        self.beats.append(screen)


class PaperOutPrinter:
    name = "printer"

    def print_receipt(self, receipt):
        from kiosk.errors import PaperOut

        raise PaperOut("paper ran out during the job")

    def status(self):
        from kiosk.ports import PrinterStatus

        return PrinterStatus.PAPER_OUT

    def discard_pending(self):
        pass

    def health(self):
        from kiosk.health import Health

        return Health.fault(self.name, "paper out")

    def close(self):
        pass


async def test_a_paper_out_reaches_the_dashboard_at_once_not_at_the_next_beat():
    # Given heartbeats every 10 minutes
    platform = BeatRecorder()
    t, _ = terminal(printer=PaperOutPrinter(), platform=platform)
    stop = asyncio.Event()
    beats = asyncio.ensure_future(t.heartbeats(stop, lambda: "outcome", "1.0", interval=600))
    while not platform.beats:
        await asyncio.sleep(0.01)
    # When a receipt fails for paper
    from kiosk.errors import PaperOut
    from kiosk.receipt import Receipt

    with pytest.raises(PaperOut):
        await t.print_receipt(Receipt(job_id="j", blocks=()))
    # Then another heartbeat goes out straight away
    await asyncio.wait_for(_until(lambda: len(platform.beats) >= 2), 2)
    stop.set()
    await beats


async def _until(check):
    while not check():
        await asyncio.sleep(0.01)


class SpeechRecorder:
    def __init__(self):
        self.said: list[tuple[str, str]] = []

    def say(self, text, language="zh"):
        self.said.append((text, language))


async def test_voice_prompts_speak_only_in_elderly_mode():
    speech = SpeechRecorder()
    t, _ = terminal(speech=speech)
    await t.say("请将身份证放在读卡区")
    assert speech.said == []
    t.toggle_elderly()
    await t.say("请将身份证放在读卡区")
    assert speech.said == [("请将身份证放在读卡区", "zh")]


def a_social_card(expiry: dt.date | None = dt.date(2029, 6, 11)) -> SocialSecurityCard:
    return SocialSecurityCard("362429199005010048", "王芳", Gender.FEMALE, dt.date(1990, 5, 1),
                              expiry_date=expiry)


async def test_an_inserted_social_security_card_identifies_the_citizen():
    social = FakeSocialReader(a_social_card())
    t, events = terminal(id_reader=FakeIdReader(), social_reader=social)
    card = await asyncio.wait_for(t.wait_for_card(asyncio.Event(), interval=0.01), 2)
    assert card.ss_number == "362429199005010048"
    assert t.display_name == "王芳" and events == ["visit"]


async def test_an_expired_social_security_card_is_explained_and_starts_nothing():
    social = FakeSocialReader(a_social_card(expiry=dt.date(2026, 1, 1)))
    t, events = terminal(social_reader=social)
    stop = asyncio.Event()
    task = asyncio.ensure_future(t.wait_for_card(stop, interval=0.01))
    await asyncio.sleep(0.1)
    stop.set()
    assert await task is None
    assert events == ["error:error.card_expired"] and t.session is None


async def test_taking_the_social_security_card_out_mid_form_wipes_the_session():
    # Given a visit begun with an inserted social-security card, half-way through a form
    social = FakeSocialReader(a_social_card())
    t, events = terminal(social_reader=social)
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    session = t.session
    session.values["applicant_phone"] = "13907961234"
    watcher = asyncio.ensure_future(t.end_when_card_removed(asyncio.Event(), interval=0.01))
    await asyncio.sleep(0.05)
    assert not watcher.done()
    # When the card is taken out
    social.card = None
    await asyncio.wait_for(watcher, 2)
    # Then nothing personal is left and the screens are told
    assert t.session is None and not session.holds_personal_data()
    assert session.end_reason == "card_removed" and events[-1] == "ended"


async def test_another_social_security_card_in_the_slot_ends_the_visit_it_did_not_begin():
    # Given a visit begun with 王芳's inserted social-security card
    social = FakeSocialReader(a_social_card())
    t, _ = terminal(social_reader=social)
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    session = t.session
    watcher = asyncio.ensure_future(t.end_when_card_removed(asyncio.Event(), interval=0.01))
    # When her mother's card is in its place between two looks at the slot
    social.card = SocialSecurityCard("362424195803120022", "李秀英", Gender.FEMALE, dt.date(1958, 3, 12))
    await asyncio.wait_for(watcher, 2)
    # Then 王芳's visit is over and wiped: it does not go on under her mother's card
    assert t.session is None and session.end_reason == "card_removed"


async def test_a_visit_by_id_card_is_not_ended_by_the_social_card_reader():
    reader = FakeIdReader()
    reader.card = an_id_card()
    t, _ = terminal(id_reader=reader, social_reader=FakeSocialReader(None))
    await t.wait_for_card(asyncio.Event(), interval=0.01)
    await asyncio.wait_for(t.end_when_card_removed(asyncio.Event(), interval=0.01), 1)
    assert t.session is not None


def test_a_failed_call_for_staff_names_the_hall_s_phone_or_else_the_12345_hotline():
    from dataclasses import replace

    from kiosk.catalog.schema import catalog_from_dict, catalog_to_dict
    from kiosk.config import TerminalConfig
    from kiosk.i18n import translate
    from tests.support.county import county_catalog

    cat = county_catalog()
    cfg = KioskConfig(terminal=TerminalConfig(service_point="zhouhu"))
    t = Terminal(Ports(), cfg, catalog=cat)
    # A hall the catalog gives no phone: the hotline that answers in every county
    assert t.call_failed() == ("staff.call_failed_hotline", {})
    # A hall with its front desk's number, as the platform sends it in the catalog
    points = {**cat.service_points,
              "zhouhu": replace(cat.service_points["zhouhu"], phone="0796-7000000")}  # fmt: skip
    t.catalog = catalog_from_dict(catalog_to_dict(replace(cat, service_points=points)))
    key, values = t.call_failed()
    assert "大厅电话 0796-7000000" in translate(key, "zh", **values)
    assert "0796-7000000" in translate(key, "en", **values)
