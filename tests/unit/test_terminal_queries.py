"""The terminal's query services over in-memory fakes: codes from the scanner,
queue tickets at this terminal's point, the ticket slip, and guides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import KioskConfig, PlatformConfig, TerminalConfig
from kiosk.errors import DeviceError, PrinterError, ValidationError
from kiosk.health import Health
from kiosk.receipt import Text
from kiosk.terminal import Ports, Terminal

CATALOG = load_catalog(default_catalog_dir())


class FakeScanner:
    name = "scanner"

    def __init__(self, codes=()):
        self.codes = list(codes)
        self.timeouts: list[float] = []

    def read_code(self, timeout: float) -> str | None:
        self.timeouts.append(timeout)
        return self.codes.pop(0) if self.codes else None

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass


class FakePrinter:
    name = "printer"

    def __init__(self, fault: PrinterError | None = None):
        self.printed = []
        self.fault = fault

    def print_receipt(self, receipt) -> None:
        if self.fault:
            raise self.fault
        self.printed.append(receipt)

    def discard_pending(self) -> None:
        pass

    def health(self) -> Health:
        return Health.good(self.name)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Ticket:
    number: str
    kind: str
    kind_name: str
    service_point: str
    people_ahead: int
    estimated_wait_minutes: int
    issued_at: dt.datetime


class FakePlatform:
    def __init__(self):
        self.asked: list[tuple[str, str]] = []

    async def ticket(self, service_point: str, kind: str) -> Ticket:
        self.asked.append((service_point, kind))
        return Ticket(
            "B007",
            kind,
            "社保医保",
            service_point,
            2,
            16,
            dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC),
        )


def terminal(**ports) -> Terminal:
    config = KioskConfig(
        terminal=TerminalConfig(id="AF-ZH-0007", service_point="zhouhu"),
        platform=PlatformConfig(url="https://zwfw.example.gov.cn/"),
    )
    return Terminal(Ports(**ports), config, catalog=CATALOG)


async def test_a_code_shown_to_the_scanner_reaches_the_terminal():
    scanner = FakeScanner(["https://zwfw.example.gov.cn/track/AF2026112300001"])
    t = terminal(scanner=scanner)
    assert await t.read_code(0.2) == "https://zwfw.example.gov.cn/track/AF2026112300001"
    assert await t.read_code(0.2) is None  # nothing shown yet
    assert scanner.timeouts == [0.2, 0.2]


async def test_without_a_scanner_the_terminal_says_so_in_the_citizens_words():
    with pytest.raises(DeviceError) as err:
        await terminal().read_code()
    assert err.value.message_key == "error.scanner"


async def test_a_ticket_is_for_this_terminals_point_and_counted_without_personal_data():
    platform = FakePlatform()
    t = terminal(platform=platform)
    ticket = await t.take_ticket("social_security")
    assert ticket.number == "B007"
    assert platform.asked == [("zhouhu", "social_security")]
    assert [(e["kind"], e["what"]) for e in t.pending_events()] == [("query", "ticket")]


async def test_the_ticket_slip_is_printed_in_the_citizens_language():
    printer = FakePrinter()
    t = terminal(platform=FakePlatform(), printer=printer)
    t.set_language("en")
    await t.print_ticket(await t.take_ticket("social_security"), kind_name="Social security")
    (slip,) = printer.printed
    assert slip.kind == "ticket"
    assert any(isinstance(b, Text) and b.text == "B007" and b.size >= 3 for b in slip.blocks)
    assert "Service：Social security" in slip.plain_text()


async def test_a_printer_fault_reaches_the_screen():
    t = terminal(platform=FakePlatform(), printer=FakePrinter(PrinterError("cover open")))
    with pytest.raises(PrinterError):
        await t.print_ticket(await t.take_ticket("general"))


def test_a_guide_carries_the_platforms_page_for_its_qr():
    t = terminal()
    guide = t.guide("hukou_birth")
    assert guide.url == "https://zwfw.example.gov.cn/guide/hukou_birth"
    assert guide.name == "出生登记（新生儿户口登记）"
    with pytest.raises(ValidationError):
        t.guide("no_such_matter")
