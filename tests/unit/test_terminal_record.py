"""The terminal's contribution record (社保缴费记录) over in-memory fakes: asked for only
by the card of this visit, every refusal told in the citizen's words, printed with the
number masked, and paper out answered with "print again"."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import KioskConfig, PlatformConfig, TerminalConfig
from kiosk.errors import (
    PaperOut,
    PlatformError,
    PlatformRejected,
    PlatformUnreachable,
    PrinterError,
    SessionError,
)
from kiosk.health import Health
from kiosk.i18n import message_for, translate
from kiosk.records import ContributionRecord
from kiosk.terminal import Ports, Terminal
from tests.fakes import an_id_card

CATALOG = load_catalog(default_catalog_dir())
STARTED = dt.datetime(2026, 3, 5, 6, 0, tzinfo=dt.UTC)
A_YEAR = ContributionRecord.from_dict({
    "sample": True, "notice": {"zh": "参考平台示例数据", "en": "Sample data"},
    "months": [{"month": f"2025-{m:02d}", "base": "4000.00", "paid": True,
                "pension": {"employer": "640.00", "personal": "320.00"}} for m in range(1, 13)],
})  # fmt: skip


class FakeRecords:
    """The platform's record call: answers ``A_YEAR``, or raises ``fault``."""

    def __init__(self, fault: Exception | None = None, wait: asyncio.Event | None = None):
        self.asked: list[tuple[str, dt.datetime]] = []
        self.fault = fault
        self.wait = wait

    async def social_insurance_record(self, id_number: str, *, card_read_at: dt.datetime):
        self.asked.append((id_number, card_read_at))
        if self.wait is not None:
            await self.wait.wait()
        if self.fault is not None:
            raise self.fault
        return A_YEAR


class FakePrinter:
    """Prints, or keeps the job when the paper is out (as the real driver does)."""

    name = "printer"

    def __init__(self, paper: bool = True):
        self.paper = paper
        self.printed: list = []
        self.pending = None

    def print_receipt(self, receipt) -> None:
        if not self.paper:
            self.pending = receipt
            raise PaperOut("no paper")
        self.printed.append(receipt)

    def reprint_pending(self, fresh=None) -> bool:
        if self.pending is None or not self.paper:
            return False
        if fresh is not None and fresh.job_id == self.pending.job_id:
            self.pending = fresh  # the same job built again, in the language read now
        self.printed.append(self.pending)
        self.pending = None
        return True

    def discard_pending(self) -> None:
        self.pending = None

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass


def terminal(**ports) -> Terminal:
    config = KioskConfig(
        terminal=TerminalConfig(
            id="AF-ZH-0007", service_point="zhouhu", point_name="洲湖镇便民服务中心"
        ),
        platform=PlatformConfig(url="https://zwfw.example.gov.cn/"),
    )
    return Terminal(Ports(**ports), config, catalog=CATALOG, now=lambda: STARTED)


async def test_the_record_is_asked_for_by_the_card_read_at_the_start_of_this_visit():
    # Given a citizen identified by their ID card
    platform = FakeRecords()
    t = terminal(platform=platform)
    t.begin(an_id_card())
    # When they ask for their record
    record = await t.social_insurance_record()
    # Then the platform is asked with the card's number and when it was read
    assert record is A_YEAR
    assert platform.asked == [("362429199005010048", STARTED)]
    # and the hall counts a query, never the number
    (event,) = t.pending_events()
    assert (event["kind"], event["what"], event["found"]) == ("query", "record", True)
    assert "362429199005010048" not in repr(event)


async def test_without_a_card_nothing_is_asked_and_the_citizen_is_told_to_lay_it_on_the_reader():
    platform = FakeRecords()
    t = terminal(platform=platform)
    t.begin(None)  # started without a card
    with pytest.raises(SessionError) as err:
        await t.social_insurance_record()
    assert err.value.message_key == "record.lay_card" and platform.asked == []
    assert "读卡区" in message_for(err.value, "zh") and "reader" in message_for(err.value, "en")


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (PlatformRejected("HTTP 403", status=403, message_key="record.card_not_present"), "record.card_again"),
        (PlatformRejected("HTTP 422", status=422, message_key="submission.id_number_invalid"), "record.refused"),
        (PlatformUnreachable("connection refused"), "record.offline"),
    ],
)  # fmt: skip
async def test_every_refusal_and_fault_is_told_in_the_citizens_words(fault, key):
    t = terminal(platform=FakeRecords(fault))
    t.begin(an_id_card())
    with pytest.raises(PlatformError) as err:
        await t.social_insurance_record()
    assert err.value.message_key == key
    for language in ("zh", "en"):  # a sentence of the catalogue, not a key
        assert message_for(err.value, language) == translate(key, language) != key


async def test_an_answer_for_a_visit_that_has_ended_is_dropped():
    gate = asyncio.Event()
    t = terminal(platform=FakeRecords(wait=gate))
    t.begin(an_id_card())
    asking = asyncio.ensure_future(t.social_insurance_record())
    await asyncio.sleep(0)
    t.end("timeout")  # the citizen walked away
    gate.set()
    with pytest.raises(SessionError):
        await asking


async def test_the_slip_names_the_citizen_with_the_number_masked_in_their_language():
    printer = FakePrinter()
    t = terminal(platform=FakeRecords(), printer=printer)
    t.begin(an_id_card(name="王芳"))
    await t.print_record(await t.social_insurance_record())
    (slip,) = printer.printed
    text = slip.plain_text()
    assert "社会保险参保缴费记录" in text and "姓名：王芳" in text
    assert "身份证号码：362429********0048" in text and "362429199005010048" not in text
    assert "终端编号：AF-ZH-0007" in text and "服务网点：洲湖镇便民服务中心" in text
    t.set_language("en")
    await t.print_record(A_YEAR)
    assert "Social insurance contribution record" in printer.printed[-1].plain_text()


async def test_paper_out_is_said_plainly_and_print_again_prints_the_kept_slip_once():
    printer = FakePrinter(paper=False)
    t = terminal(platform=FakeRecords(), printer=printer)
    t.begin(an_id_card())
    with pytest.raises(PaperOut) as err:
        await t.print_record(A_YEAR)
    assert err.value.message_key == "record.paper_out" and printer.printed == []
    assert "重新打印" in message_for(err.value, "zh")
    # When the paper is back and the citizen taps "print again"
    printer.paper = True
    kept = printer.pending
    await t.print_record(A_YEAR, again=True)
    # Then the kept slip is printed, once
    assert printer.printed == [kept] and printer.pending is None


async def test_printed_again_later_in_english_the_kept_slip_comes_out_in_english_once():
    clock = [STARTED]
    printer = FakePrinter(paper=False)
    t = terminal(platform=FakeRecords(), printer=printer)
    t.now = lambda: clock[0]
    t.begin(an_id_card())
    with pytest.raises(PaperOut):
        await t.print_record(A_YEAR)
    # The citizen switches to English; paper is back two minutes later
    t.set_language("en")
    clock[0] = STARTED + dt.timedelta(minutes=2)
    printer.paper = True
    await t.print_record(A_YEAR, again=True)
    (slip,) = printer.printed
    assert "Social insurance contribution record" in slip.plain_text()
    assert "社会保险参保缴费记录" not in slip.plain_text() and printer.pending is None


async def test_without_a_printer_the_citizen_is_told_where_else_to_get_the_record():
    t = terminal(platform=FakeRecords())
    t.begin(an_id_card())
    with pytest.raises(PrinterError) as err:
        await t.print_record(A_YEAR)
    assert err.value.message_key == "record.printer"
