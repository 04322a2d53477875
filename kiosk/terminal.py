"""The terminal's application service: the one object screens send intents to.

It owns the current session (the citizen's personal data lives only there and
is wiped on ``end``), drives the device ports off the UI thread with
``asyncio.to_thread``, submits through the durable outbox, and tells listeners
what changed. Pure asyncio and the core's ports: no Kivy, no device library.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.catalog.model import Catalog
from kiosk.config import KioskConfig, china_time
from kiosk.errors import CardError, CardExpired, DeviceError, KioskError, NoCard
from kiosk.health import Health
from kiosk.identity import IdCard, SocialSecurityCard
from kiosk.journey import Journey
from kiosk.outcomes import Outcome
from kiosk.ports import (
    Camera,
    CodeScanner,
    IdCardReader,
    Platform,
    ReceiptPrinter,
    SocialCardReader,
    Speech,
)
from kiosk.receipt import Receipt
from kiosk.receipts import build_receipt
from kiosk.session import Session, State, Timeouts, TimeoutStatus

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
    speech: Speech | None = None

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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Terminal:
    def __init__(
        self,
        ports: Ports,
        config: KioskConfig,
        catalog: Catalog | None = None,
        today: Callable[[], dt.date] = lambda: china_time().date(),
        now: Callable[[], dt.datetime] = _utcnow,
    ):
        self.ports = ports
        self.config = config
        self.catalog = catalog
        self.today = today
        self.now = now
        self.session: Session | None = None
        self.journey: Journey | None = None
        self.outcome: Outcome | None = None
        self.language = config.terminal.language
        self.elderly = config.terminal.elderly_default
        self._listeners: list[Listener] = []
        self._beat_now = asyncio.Event()  # a fault staff must hear of now, not at the next beat

    # -- listeners -------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    @property
    def display_name(self) -> str:
        s = self.session
        card = (s.card or s.social_card) if s else None
        return card.name if card else ""

    # -- identification --------------------------------------------------
    async def wait_for_card(self, stop: asyncio.Event, interval: float = 0.3):
        """Poll the readers until a valid card identifies the citizen, or ``stop`` is set.

        The ID card reader and, when there is one, the social-security card
        reader are both watched (the attract screen invites either card). A card
        that cannot be read, or has expired, is reported to listeners
        (``error:<message key>``) once, and polling goes on: the citizen can try again.
        """
        readers = [r for r in (self.ports.id_reader, self.ports.social_reader) if r is not None]
        if not readers:
            await stop.wait()
            return None
        last_error = ""
        while not stop.is_set():
            for reader in readers:
                try:
                    card = await asyncio.to_thread(reader.read_card)
                    if card is None:
                        continue
                    expiry = getattr(card, "valid_to", None) or getattr(card, "expiry_date", None)
                    if expiry is not None and self.today() > expiry:
                        raise CardExpired("card validity date has passed")
                    self.begin(card)
                    return card
                except NoCard:
                    continue
                except (CardError, DeviceError) as err:
                    if err.message_key != last_error:
                        log.warning("card read failed on %s: %s", getattr(reader, "name", "?"), err.detail)
                        self._changed(f"error:{err.message_key}")
                    last_error = err.message_key
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        return None

    async def end_when_card_removed(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """A visit begun with an inserted social-security card ends, and is wiped,
        when that card is taken out (as at a bank machine)."""
        session, reader = self.session, self.ports.social_reader
        if session is None or reader is None or not isinstance(session.card, SocialSecurityCard):
            return
        while self.session is session and not stop.is_set():
            try:
                present = await asyncio.to_thread(reader.read_card) is not None
            except NoCard:
                present = False
            except (CardError, DeviceError):
                present = True  # a glitch is not a removal
            if not present and self.session is session:
                self.end("card_removed")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def wait_for_cards_removed(self, stop: asyncio.Event, interval: float = 0.3) -> None:
        """Wait until no reader holds a card, so a card just used does not start
        a new visit by lying on the reader (or staying in the slot)."""
        readers = [r for r in (self.ports.id_reader, self.ports.social_reader) if r is not None]
        while readers and not stop.is_set():
            present = False
            for reader in readers:
                try:
                    present = present or await asyncio.to_thread(reader.read_card) is not None
                except NoCard:
                    pass
                except (CardError, DeviceError):
                    present = True  # unreadable or faulty: keep waiting; the poller reports faults
            if not present:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def limits(self) -> Timeouts:
        t = self.config.timeouts
        return Timeouts(
            idle=t.inactivity,
            warning=t.warning,
            elderly_idle=t.inactivity * t.elderly_factor,
            elderly_warning=t.warning * t.elderly_factor,
        )

    def begin(self, card: IdCard | SocialSecurityCard | None) -> Session:
        """Start a visit (a card, or None for services that need no identity)."""
        self.session = Session(card, self.now(), elderly=self.elderly, limits=self.limits())
        self.journey = Journey(self.catalog, self.session) if self.catalog else None
        self.outcome = None
        self._changed("visit")
        return self.session

    async def read_social_card(self, wait: float = 20.0, interval: float = 0.3) -> SocialSecurityCard:
        """Read the social-security card, waiting up to ``wait`` s for it to be
        inserted, and keep it in the session.

        :raises NoCard: no card was inserted in time.
        :raises CardError, DeviceError: unreadable card or reader fault.
        """
        reader = self.ports.social_reader
        if reader is None:
            raise DeviceError("no social-security card reader configured")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        self.pause(True)
        try:
            while (card := await asyncio.to_thread(reader.read_card)) is None:
                if loop.time() >= deadline:
                    raise NoCard("no social-security card inserted")
                await asyncio.sleep(interval)
        finally:
            self.pause(False)
        if self.session is None:
            self.begin(card)
        self.session.social_card = card
        self._changed("visit")
        return card

    # -- inactivity --------------------------------------------------------
    def touch(self) -> None:
        """Any touch or key: restart the inactivity clock (and leave the warning)."""
        if self.session is not None and self.session.state is not State.ENDED:
            was_warning = self.session.state is State.WARNING
            self.session.touch(self.now())
            if was_warning:
                self._changed("resumed")

    def pause(self, paused: bool) -> None:
        """Hold the inactivity clock while the kiosk itself works (capture, print, submit)."""
        if self.session is not None and self.session.state is not State.ENDED:
            self.session.pause(paused, self.now())

    def tick(self) -> tuple[TimeoutStatus, float]:
        """Called once a second by the shell; warns, then ends and wipes the session."""
        if self.session is None:
            return TimeoutStatus.ACTIVE, 0.0
        was = self.session.state
        check = self.session.tick(self.now())
        if check.status is TimeoutStatus.WARNING and was is not State.WARNING:
            self._changed("warning")
        elif check.status is TimeoutStatus.EXPIRED:
            self.end("timeout")
        return check.status, check.seconds_left

    # -- materials -------------------------------------------------------------
    async def scan_material(self, code: str, replace: bool = False) -> int:
        """Capture one page of a material with the document camera; returns the page count.

        :raises CaptureRejected: no page in view (the citizen adjusts and tries again).
        :raises DeviceError: the camera gives no frame.
        """
        camera, j = self.ports.document_camera, self.journey
        if camera is None or j is None:
            raise DeviceError("no document camera configured")
        self.pause(True)
        try:
            frame = await asyncio.to_thread(camera.capture)
        finally:
            self.pause(False)
        pages = [frame.data] if replace else [*j.scan_pages.get(code, []), frame.data]
        j.attach_scan(code, pages, self.now())
        self._changed("scanned")
        return len(pages)

    # -- submission ----------------------------------------------------------
    async def submit(self) -> Outcome:
        """Submit the journey once. The platform adapter keeps it on disk before
        sending; offline it answers with a pending outcome (收件凭证).

        :raises PlatformRejected: the platform refused it (the citizen can fix and retry).
        :raises KioskError: it could not be kept (nothing was taken).
        """
        j = self.journey
        if j is None or self.ports.platform is None:
            raise DeviceError("no catalog or platform configured")
        sub = j.submission(self.config.terminal.id, self.config.terminal.service_point, self.now())
        self.pause(True)
        try:
            outcome = await self.ports.platform.submit(sub)
        finally:
            self.pause(False)
        self.session.go(State.SUBMITTED, self.now())
        self.session.receipt_number = outcome.acceptance_number or outcome.local_number
        self.outcome = outcome
        self._changed("submitted")
        return outcome

    async def rate(self, stars: int, reasons: list[str]) -> None:
        """Record the rating; sending it is a side effect: a failure is logged, not shown.

        :raises SessionError: not submitted yet, or stars not 1..5.
        """
        self.session.rate(stars, self.now())
        rate = getattr(self.ports.platform, "rate", None)
        if rate is None:
            return
        reference = self.outcome.acceptance_number or self.outcome.local_number if self.outcome else ""
        try:
            await rate(stars, reasons, reference)
        except KioskError as err:
            log.warning("rating not delivered: %s", err.detail)

    async def call_staff(self, screen: str) -> bool:
        """Raise a help request (which terminal, which screen; nothing personal).

        :raises PlatformError: the request did not reach the platform.
        """
        call = getattr(self.ports.platform, "call_staff", None)
        if call is None:
            raise DeviceError("this platform takes no help requests")
        await call(screen)
        return True

    def receipt(self) -> Receipt:
        track = f"{self.config.platform.url.rstrip('/')}/track/"
        return build_receipt(self.outcome, self.catalog, language=self.language, track_url=track)

    # -- printing ----------------------------------------------------------
    async def print_receipt(self, receipt: Receipt) -> None:
        """:raises PrinterError, PaperOut: see ReceiptPrinter.print_receipt."""
        if self.ports.printer is None:
            raise DeviceError("no printer configured")
        self.pause(True)
        try:
            await asyncio.to_thread(self.ports.printer.print_receipt, receipt)
        except KioskError:
            self._beat_now.set()  # the dashboard learns of the printer fault at once
            raise
        finally:
            self.pause(False)

    async def reprint(self) -> bool:
        """Print the receipt kept after a paper-out, in full (False: nothing to print).

        :raises PaperOut, PrinterError: still no paper, or the printer fails.
        """
        if self.ports.printer is None:
            raise DeviceError("no printer configured")
        self.pause(True)
        try:
            return await asyncio.to_thread(self.ports.printer.reprint_pending)
        finally:
            self.pause(False)

    # -- health ------------------------------------------------------------
    async def device_health(self) -> list[Health]:
        """Every device's own report (each call off the UI thread)."""
        return [await asyncio.to_thread(d.health) for d in self.ports.devices()]

    async def health(self) -> list[Health]:
        """Every device's state, then the platform's (reachable, and its version)."""
        out = await self.device_health()
        if self.ports.platform is not None:
            try:
                info = await self.ports.platform.health()
                out.append(Health.good("platform", version=str(info.get("version", ""))))
            except KioskError as err:
                out.append(Health.fault("platform", err.detail))
        return out

    async def paper(self) -> str:
        """The printer's paper as the dashboard shows it: ok, near_end, out, or unknown."""
        if self.ports.printer is None:
            return "unknown"
        try:
            status = await asyncio.to_thread(self.ports.printer.status)
        except KioskError:
            return "unknown"
        return {"ok": "ok", "paper_near_end": "near_end", "paper_out": "out"}.get(status.value, "unknown")

    async def heartbeats(self, stop: asyncio.Event, screen: Callable[[], str],
                         version: str, interval: float = 30.0) -> None:
        """Tell the platform every ``interval`` s how this terminal is: a side effect,
        so a failure is logged and the next beat follows."""
        beat = getattr(self.ports.platform, "heartbeat", None)
        while beat is not None and not stop.is_set():
            try:
                devices = await self.device_health()
                await beat(devices, software_version=version, screen=screen(), paper=await self.paper())
            except KioskError as err:
                log.warning("heartbeat not delivered: %s", err.detail)
            self._beat_now.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._beat_now.wait())]
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

    # -- end ---------------------------------------------------------------
    def end(self, reason: str = "finished") -> None:
        """Wipe the session: no personal data outlives it, nor any queued print."""
        if self.session is not None:
            self.session.end(reason)
        if self.journey is not None:
            self.journey.wipe()
        if self.ports.printer is not None:
            self.ports.printer.discard_pending()
        self.session = self.journey = self.outcome = None
        self._changed("ended")

    async def say(self, text: str) -> None:
        """A voice prompt in elderly mode (a side effect: silence is no failure)."""
        if not (self.elderly and self.ports.speech and text):
            return
        try:
            await asyncio.to_thread(self.ports.speech.say, text, self.language)
        except KioskError as err:
            log.warning("voice prompt failed: %s", err.detail)

    def set_language(self, language: str) -> None:
        self.language = language
        self._changed("language")

    def toggle_elderly(self) -> None:
        self.elderly = not self.elderly
        if self.session is not None:
            self.session.elderly = self.elderly
        self._changed("elderly")

    async def aclose(self) -> None:
        """Close the devices and the platform connection (inside the running loop)."""
        self.close()
        close = getattr(self.ports.platform, "close", None)
        if close is not None:
            await close()

    def close(self) -> None:
        for d in self.ports.devices():
            try:
                d.close()
            except KioskError as err:
                log.warning("closing %s failed: %s", getattr(d, "name", d), err.detail)
