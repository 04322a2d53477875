"""The terminal's application service: the one object screens send intents to.

It owns the current visit (the citizen's personal data lives only here and is
wiped on ``end``), drives the device ports off the UI thread with
``asyncio.to_thread``, and tells listeners what changed. Pure asyncio and the
core's ports: no Kivy, no device library.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.config import KioskConfig
from kiosk.errors import CardError, CardExpired, DeviceError, KioskError, NoCard
from kiosk.health import Health
from kiosk.identity import IdCard, SocialSecurityCard
from kiosk.ports import Camera, CodeScanner, IdCardReader, Platform, ReceiptPrinter, SocialCardReader
from kiosk.receipt import Receipt

log = logging.getLogger(__name__)

Listener = Callable[[str], None]


@dataclass
class Ports:
    """The adapters the composition root hands in; None where a terminal has no such device."""

    id_reader: IdCardReader | None = None
    social_reader: SocialCardReader | None = None
    printer: ReceiptPrinter | None = None
    platform: Platform | None = None
    document_camera: Camera | None = None
    face_camera: Camera | None = None
    scanner: CodeScanner | None = None

    def devices(self) -> list:
        return [
            d
            for d in (
                self.id_reader,
                self.social_reader,
                self.printer,
                self.document_camera,
                self.face_camera,
                self.scanner,
            )
            if d is not None
        ]


@dataclass
class Visit:
    """One citizen's visit: everything personal, wiped as a whole."""

    id_card: IdCard | None = None
    social_card: SocialSecurityCard | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def display_name(self) -> str:
        if self.id_card:
            return self.id_card.name
        if self.social_card:
            return self.social_card.name
        return ""


class Terminal:
    def __init__(self, ports: Ports, config: KioskConfig, today: Callable[[], dt.date] = dt.date.today):
        self.ports = ports
        self.config = config
        self.today = today
        self.visit: Visit | None = None
        self.language = config.terminal.language
        self.elderly = config.terminal.elderly_default
        self._listeners: list[Listener] = []

    # -- listeners -------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    # -- identification --------------------------------------------------
    async def wait_for_id_card(self, stop: asyncio.Event, interval: float = 0.3) -> IdCard | None:
        """Poll the ID reader until a valid card is read or ``stop`` is set.

        A card that cannot be read, or has expired, is reported to listeners
        (``error:<message key>``) and polling goes on: the citizen can try again.
        """
        reader = self.ports.id_reader
        if reader is None:
            await stop.wait()
            return None
        last_error = ""
        while not stop.is_set():
            try:
                card = await asyncio.to_thread(reader.read_card, 0.0)
                if card is not None:
                    if card.expired(self.today()):
                        raise CardExpired("card validity date has passed")
                    self.begin(Visit(id_card=card))
                    return card
                last_error = ""
            except NoCard:
                last_error = ""
            except (CardError, DeviceError) as err:
                if err.message_key != last_error:
                    log.warning("id card read failed: %s", err.detail)
                    self._changed(f"error:{err.message_key}")
                last_error = err.message_key
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass
        return None

    async def wait_for_id_card_removed(self, stop: asyncio.Event, interval: float = 0.3) -> None:
        """Wait until the reader has no card, so the card just used does not
        start a new visit by lying on the reader."""
        reader = self.ports.id_reader
        while reader is not None and not stop.is_set():
            try:
                if await asyncio.to_thread(reader.read_card, 0.0) is None:
                    return
            except NoCard:
                return
            except (CardError, DeviceError):
                pass  # unreadable or faulty: keep waiting; the poller reports faults
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                pass

    def begin(self, visit: Visit) -> None:
        self.visit = visit
        self._changed("visit")

    async def read_social_card(self) -> SocialSecurityCard:
        """Read the social-security card in the reader and keep it in the visit.

        :raises NoCard: no card inserted.
        :raises CardError, DeviceError: unreadable card or reader fault.
        """
        reader = self.ports.social_reader
        if reader is None:
            raise DeviceError("no social-security card reader configured")
        card = await asyncio.to_thread(reader.read_card)
        if card is None:
            raise NoCard("no social-security card inserted")
        if self.visit is None:
            self.begin(Visit(social_card=card))
        else:
            self.visit.social_card = card
            self._changed("visit")
        return card

    # -- printing ----------------------------------------------------------
    async def print_receipt(self, receipt: Receipt) -> None:
        """:raises PrinterError, PaperOut: see ReceiptPrinter.print_receipt."""
        if self.ports.printer is None:
            raise DeviceError("no printer configured")
        await asyncio.to_thread(self.ports.printer.print_receipt, receipt)

    # -- health ------------------------------------------------------------
    async def health(self) -> list[Health]:
        return [await asyncio.to_thread(d.health) for d in self.ports.devices()]

    # -- end ---------------------------------------------------------------
    def end(self) -> None:
        """Wipe the visit: no personal data outlives it."""
        self.visit = None
        self._changed("ended")

    def set_language(self, language: str) -> None:
        self.language = language
        self._changed("language")

    def toggle_elderly(self) -> None:
        self.elderly = not self.elderly
        self._changed("elderly")

    def close(self) -> None:
        for d in self.ports.devices():
            try:
                d.close()
            except KioskError as err:
                log.warning("closing %s failed: %s", getattr(d, "name", d), err.detail)
