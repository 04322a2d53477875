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
import importlib
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from kiosk.catalog.model import Catalog
from kiosk.config import KioskConfig, as_enrolled, china_time, save_remote, with_remote
from kiosk.devices import (
    CAMERAS,
    PAPER_WIDTHS,
    WEDGE,
    CameraView,
    DeviceFinder,
    Finding,
    Placement,
    configured_rates,
    save_paper,
    save_placement,
    serial_in_use,
    swapped_cameras,
    where,
    with_paper,
    with_placements,
)
from kiosk.diagnostics import DiagnosticsError, HealthHistory
from kiosk.errors import (
    CardError,
    CardExpired,
    CardNumberInvalid,
    CardOfAnotherPerson,
    DeviceError,
    KioskError,
    NoCard,
    PaperOut,
    PlatformError,
    PlatformRejected,
    PrinterError,
    SessionError,
    ValidationError,
)
from kiosk.face import FaceVerdict, verdict
from kiosk.health import FailedReads, Health
from kiosk.identity import (
    ElectronicId,
    IdCard,
    Identity,
    SocialSecurityCard,
    id_number_of,
    looks_like_eid,
)
from kiosk.ports import (
    CodeScanner,
    DocumentCamera,
    DocumentLook,
    FaceCamera,
    FaceLook,
    Frame,
    IdCardReader,
    Platform,
    ReceiptPrinter,
    SocialCardReader,
    Speech,
)
from kiosk.session import CARD_LEFT_HELP, Session, State, Timeouts, TimeoutStatus
from kiosk.validation import check_card, check_id_number

CARD_REPORT_AGAIN = 60.0  # seconds before a card left that the hall did not hear of is told again


def _untold(report: asyncio.Task | None) -> bool:
    """Whether the hall is yet to hear of a card left (not tried, or tried and failed)."""
    if report is None:
        return True
    if not report.done():
        return False
    return report.cancelled() or report.exception() is not None or not report.result()


# imported where used, and all at once by Terminal.ready_for_visits
VISIT_MODULES = ("kiosk.journey", "kiosk.receipts", "kiosk.records", "kiosk.guide", "kiosk.query",
                 "kiosk.catalog.sync", "kiosk.calendar_sync")  # fmt: skip
if TYPE_CHECKING:
    from kiosk.calendar_sync import CalendarCache
    from kiosk.catalog.sync import CatalogCache
    from kiosk.downloads import Kept
    from kiosk.guide import Guide
    from kiosk.journey import Journey
    from kiosk.outcomes import Outcome, Progress
    from kiosk.receipt import Receipt
    from kiosk.records import ContributionRecord
    from kiosk.workdays import WorkdayCalendar

log = logging.getLogger(__name__)

Listener = Callable[[str], None]
# the Ports attribute of each device a technician may put on another port (kiosk.devices)
PORT_OF = {"idcard": "id_reader", "printer": "printer", "scanner": "scanner",
           "document_camera": "document_camera", "face_camera": "face_camera"}
EVENTS_KEPT = 1000  # finished visits and queries waiting to be reported; the oldest go first
EVENTS_BATCH = 100
CATALOG_EVERY = 10  # heartbeats between two conditional catalog requests (the first beat asks)


@dataclass
class Ports:
    """The adapters the composition root hands in; None where a terminal has no such device."""

    id_reader: IdCardReader | None = None
    social_reader: SocialCardReader | None = None
    printer: ReceiptPrinter | None = None
    platform: Platform | None = None
    document_camera: DocumentCamera | None = None
    face_camera: FaceCamera | None = None
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


async def _read(reader):
    """``reader.read_card()`` off the loop; a driver's own defect (any exception but a
    KioskError) as an unreadable card, logged by its type: one card not read, never the
    kiosk deaf to every card after it (a watcher that ended on it read none until restart).

    :raises KioskError: NoCard, CardError, DeviceError, as the driver says.
    """
    try:
        return await asyncio.to_thread(reader.read_card)
    except KioskError:
        raise
    except Exception as err:  # noqa: BLE001 - see above
        # (said once a change by whoever polls: each poll would fill the log)
        log.debug("card read on %s failed in its driver", _name(reader), exc_info=True)
        raise CardError(f"the reader's driver failed ({type(err).__name__})") from err


def _name(device) -> str:
    return getattr(device, "name", "?")


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
        history: HealthHistory | None = None,
    ):
        self.ports = ports
        self.history = history  # each device's state over time, for the diagnostics bundle
        self.diagnostics: Callable[[], bytes] | None = None  # builds the zip (set by the shell)
        self._answered: set[int] = set()  # diagnostics requests already answered
        # trades a one-time code for this terminal's identity and keeps it (set by the shell)
        # a one-time code -> (terminal id, service point) from the platform
        self.enroller: Callable[[str], Awaitable[tuple[str, str]]] | None = None
        self.enrolled = False  # the platform gave this terminal its identity
        self.servicing = False  # a technician has the terminal: no card starts a visit
        # the technician screen's "find devices": looks on this machine's serial ports, and
        # makes a device's driver for a configuration (both set by the shell, kiosk/cli.py)
        self.finder: DeviceFinder | None = None
        self.device_builder: Callable[[KioskConfig, str], object] | None = None
        # while a scanner is being tried: what the window's keys go to (a scanner that types
        # its codes as a USB keyboard is found by them); None: to a keyboard-type scanner
        # configured, if there is one (screens/app.py)
        self.key_sink: object | None = None
        self.config = config
        self.base_config = config  # the terminal's own file; remote settings lie over it
        self.config_version = 0  # of the remote settings applied (sent back in heartbeats)
        # the attract screen cycles this very list (never empty), so pushed notices show at once
        self.notices = list(config.terminal.notices) or [""]
        self.started = time.monotonic()
        self._catalog_version: str | None = None
        self.catalog = catalog
        self.catalog_cache: CatalogCache | None = None  # where a downloaded catalog is kept
        self.catalog_etag = ""  # the platform's name for the catalog in use ("": bundled)
        self._next_catalog: Catalog | None = None  # downloaded during a visit: used after it
        # the working days deferred materials are counted in (kiosk/calendar_sync.py): the
        # platform's published calendar once it has sent one (None: chinese-calendar's)
        self.calendar: WorkdayCalendar | None = None
        self.calendar_cache: CalendarCache | None = None
        self.calendar_etag = ""
        self.today = today
        self.now = now
        self.session: Session | None = None
        self.journey: Journey | None = None
        self.outcome: Outcome | None = None
        self.language = config.terminal.language
        self.elderly = config.terminal.elderly_default
        self._listeners: list[Listener] = []
        self._beat_now = asyncio.Event()  # a fault staff must hear of now, not at the next beat
        # what the hall counts (visits, queries): codes and durations, never personal data
        self._events: deque[dict] = deque(maxlen=EVENTS_KEPT)
        self._sending = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._scanner_fault = False
        self.failed_reads = FailedReads()  # cards the readers could not read, for staff
        # the readers still holding a card after a visit ("id_card", "social_card"): watched
        # by wait_for_cards_removed until they are taken
        self.cards_left: list[str] = []
        self.card_forgotten = False  # one of them stayed past timeouts.card_left: staff told
        self.cards_checked_at = 0.0  # time.monotonic() of the watch's last look at the readers

    # -- listeners -------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(what)
            except Exception:  # one broken listener must not stop the others (or a wipe)
                log.exception("listener failed on %s", what.split(":")[0])

    @property
    def display_name(self) -> str:
        s = self.session
        card = (s.card or s.social_card) if s else None
        return card.name if card else ""

    # -- identification --------------------------------------------------
    async def wait_for_card(self, stop: asyncio.Event, interval: float = 0.3,
                            codes: Callable[[], bool] = lambda: False):  # fmt: skip
        """Poll the readers until a valid card identifies the citizen, or ``stop`` is set.

        The ID card reader and, when there is one, the social-security card
        reader are both watched (the attract screen invites either card). A card
        that cannot be read, or has expired, is reported to listeners
        (``error:<message key>``) once, and polling goes on: the citizen can try again.

        While ``codes()`` is true the code scanner is watched too, for an
        electronic ID shown from a phone (see :meth:`identify_by_eid`); every
        refused code is reported. A receipt's tracking QR identifies nobody:
        listeners hear ``track:<number>`` (the progress screen shows it). Codes shown while it was false are stale and
        dropped (another screen may be reading the scanner then).
        """
        readers = [r for r in (self.ports.id_reader, self.ports.social_reader) if r is not None]
        scanner = self.ports.scanner
        if not readers and scanner is None:
            await stop.wait()
            return None
        # The scanner is read without a break beside the card polling: a code
        # arrives as a burst of bytes, and a pause in reading would cut it in two.
        scan = asyncio.ensure_future(self._watch_codes(scanner, stop, interval, codes)) if scanner else None
        stopped = asyncio.ensure_future(stop.wait())
        last_errors: dict[str, str] = {}  # per reader: two failing differently do not alternate
        serviced = False
        try:
            while not stop.is_set():
                if self.servicing:  # the technician's self-test may use the readers now
                    serviced = True
                    await asyncio.wait([stopped], timeout=interval)
                    continue
                if serviced:  # a test card left on a reader starts no visit
                    serviced = False
                    # the technician may have put a device on another port: use its new driver
                    readers = [r for r in (self.ports.id_reader, self.ports.social_reader)
                               if r is not None]  # fmt: skip
                    if self.ports.scanner is not scanner:
                        if scan is not None:
                            scan.cancel()
                        scanner = self.ports.scanner
                        scan = asyncio.ensure_future(
                            self._watch_codes(scanner, stop, interval, codes)) if scanner else None  # fmt: skip
                    await self.wait_for_cards_removed(stop, interval)
                    continue
                if scan is not None and scan.done():
                    if scan.exception() is None and scan.result() is not None:
                        return scan.result()
                    if scan.exception() is not None:  # a defect: say so, and keep the scanner watched
                        log.error("watching the code scanner failed", exc_info=scan.exception())
                        scan = asyncio.ensure_future(self._watch_codes(scanner, stop, interval, codes))
                for reader in readers:
                    try:
                        card = await _read(reader)
                        self.failed_reads.cleared(_name(reader))  # read, or the reader is empty
                        if card is None:  # empty: its next failure is news again
                            last_errors.pop(_name(reader), None)
                        if card is None or self.servicing:  # (a technician came in meanwhile)
                            continue
                        self._check_card(card)
                        self.begin(card)
                        return card
                    except NoCard:
                        self.failed_reads.cleared(_name(reader))
                        last_errors.pop(_name(reader), None)
                        continue
                    except (CardError, DeviceError) as err:
                        # an expired card, or one whose number fails, was read well: no
                        # reader to clean
                        if not isinstance(err, CardExpired | CardNumberInvalid):
                            self.failed_reads.failed(_name(reader), time.monotonic())
                        if err.message_key != last_errors.get(_name(reader)):  # said once, not each poll
                            log.warning("card read failed on %s: %s", getattr(reader, "name", "?"), err.detail)
                            self._changed(f"error:{err.message_key}")
                        last_errors[_name(reader)] = err.message_key
                waits = [w for w in (stopped, scan) if w is not None and not w.done()] or [stopped]
                await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            return None
        finally:
            stopped.cancel()
            if scan is not None and not scan.done():
                scan.cancel()

    def _check_card(self, card) -> None:
        """Refuse a card no visit may begin with: past its date, or a number GB 11643 does
        not pass (a chip's bad data: filled into the form, it could be neither put right
        nor passed, and the citizen would be stuck at "Next"). A social-security card's
        first-generation 15-digit number is not checked (the form does not take it).

        :raises CardExpired: past its validity date.
        :raises CardNumberInvalid: its number fails the check.
        """
        try:
            if isinstance(card, IdCard):
                check_card(card, self.today())
                return
        except ValidationError as err:  # (the number itself is never in the message)
            raise CardNumberInvalid(err.detail) from err
        expiry = getattr(card, "expiry_date", None)
        if expiry is not None and self.today() > expiry:
            raise CardExpired("card validity date has passed")
        number = getattr(card, "ss_number", "")
        if len(number) == 18 and check_id_number(number):
            raise CardNumberInvalid("social-security number fails GB 11643")

    async def _watch_codes(self, scanner: CodeScanner, stop: asyncio.Event, wait: float,
                           codes: Callable[[], bool]) -> ElectronicId | None:  # fmt: skip
        listening = False
        while not stop.is_set():
            if not codes():
                listening = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                continue
            if not listening:
                await self._drop_stale_codes(scanner)
                listening = True
            identity = await self._eid_from_scanner(scanner, wait)
            if identity is not None:
                return identity
        return None

    async def forget_codes(self) -> None:
        """Drop the codes shown to the scanner before now (while no screen read it: the
        last citizen's receipt must not open on the next one's screen)."""
        if self.ports.scanner is not None:
            await self._drop_stale_codes(self.ports.scanner)

    async def _drop_stale_codes(self, scanner: CodeScanner) -> None:
        with contextlib.suppress(DeviceError):
            while await asyncio.to_thread(scanner.read_code, 0.1) is not None:
                pass

    async def _eid_from_scanner(self, scanner: CodeScanner, wait: float) -> ElectronicId | None:
        """Wait up to ``wait`` s for a code; identify by it if it is an electronic ID."""
        try:
            code = await asyncio.to_thread(scanner.read_code, wait)
        except DeviceError as err:  # the dashboard hears of it through the heartbeat
            if not self._scanner_fault:
                log.warning("code scanner failed: %s", err.detail)
            self._scanner_fault = True
            await asyncio.sleep(wait)
            return None
        self._scanner_fault = False
        if not code:
            return None
        from kiosk.query import tracked_number
        number = None if looks_like_eid(code) else tracked_number(code)
        if number is not None:  # a receipt's QR: its progress, not an identity
            self._changed(f"track:{number}")
            return None
        try:
            return await self.identify_by_eid(code)
        except KioskError as err:  # the key only: a code is never logged
            log.info("electronic ID not accepted: %s", err.message_key)
            self._changed(f"error:{err.message_key}")
            return None

    async def identify_by_eid(self, code: str) -> ElectronicId:
        """Start a visit with the electronic ID (电子身份证) the scanned ``code`` names,
        verified by the platform. A card-less identity: no card removal ends its visit.

        Listeners hear ``eid:verifying`` first (the screen says so), then ``visit``.

        :raises ValidationError: ``eid.not_eid``, the code is some other QR code.
        :raises PlatformRejected: ``eid.invalid`` (forged or unknown), ``eid.expired``, ``eid.used``.
        :raises PlatformError: ``eid.offline``, the platform cannot verify it now.
        """
        if not looks_like_eid(code):
            raise ValidationError("not an electronic ID code", message_key="eid.not_eid")
        verify = getattr(self.ports.platform, "verify_eid", None)
        if verify is None:
            raise DeviceError("this platform verifies no electronic IDs", message_key="eid.unavailable")
        self._changed("eid:verifying")
        with self.working():  # a card-less visit on the home screen waits meanwhile
            try:
                identity = await verify(code.strip())
            except PlatformRejected:
                raise
            except PlatformError as err:
                raise PlatformError(err.detail, message_key="eid.offline") from err
        self.begin(identity)
        return identity

    async def end_when_card_removed(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """A visit begun with an inserted social-security card ends, and is wiped,
        when that card is taken out (as at a bank machine), or another is in its place (a
        swap between two looks: the visit, and its data, are not the next card's)."""
        session, reader = self.session, self.ports.social_reader
        if session is None or reader is None or not isinstance(session.card, SocialSecurityCard):
            return
        holder = session.card.ss_number.upper()
        while self.session is session and not stop.is_set():
            try:
                card = await _read(reader)
                present = card is not None and card.ss_number.upper() == holder
            except NoCard:
                present = False
            except (CardError, DeviceError):
                present = True  # a glitch is not a removal
            if not present and self.session is session:
                self.end("card_removed")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def cards_on_readers(self) -> list[str]:
        """What the readers hold now: "id_card" and "social_card" (Session.to_take's names).
        A card that does not read counts; a reader at fault (unplugged, pcscd gone) holds
        none we could wait for."""
        held = []
        for what, reader in (("id_card", self.ports.id_reader),
                             ("social_card", self.ports.social_reader)):  # fmt: skip
            if reader is None:
                continue
            try:
                present = await _read(reader) is not None
            except NoCard:
                present = False
            except CardError:
                present = True  # a card there that does not read: still a card to take
            except DeviceError:
                present = False
            if present:
                held.append(what)
        return held

    async def wait_for_cards_removed(self, stop: asyncio.Event, interval: float = 0.3) -> None:
        """Wait until no reader holds a card, so a card just used does not start
        a new visit by lying on the reader (or staying in the slot). Meanwhile
        ``cards_left`` says which readers still hold one, and listeners hear
        ``cards_left`` each time that changes (the goodbye and attract screens tell).
        A card still there ``timeouts.card_left`` seconds on (longer in elderly mode) is
        forgotten: the hall is told to collect it (``report_card_left``), once."""
        t = self.config.timeouts
        forgotten = time.monotonic() + t.card_left * (t.elderly_factor if self.elderly else 1.0)
        self.card_forgotten = False
        report: asyncio.Task | None = None  # the hall told; tried again while it fails
        try:
            while not stop.is_set():
                held = await self.cards_on_readers()
                self.cards_checked_at = time.monotonic()
                self._cards_left(held)
                if not held:
                    if report is not None and not _untold(report):  # staff need not come
                        self._background(self.report_card_taken())
                    return
                if not self.card_forgotten and time.monotonic() >= forgotten:
                    self.card_forgotten = True  # the goodbye gives up asking
                    self._changed("cards_left")
                if self.card_forgotten and time.monotonic() >= forgotten and _untold(report):
                    forgotten = time.monotonic() + CARD_REPORT_AGAIN  # (the next try's time)
                    report = self._background(self.report_card_left())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            self._cards_left([])  # stopped: no longer watched, so not said to be there

    def _cards_left(self, held: list[str]) -> None:
        if held != self.cards_left:
            self.cards_left = held
            self.card_forgotten = self.card_forgotten and bool(held)
            self._changed("cards_left")

    def _background(self, work) -> asyncio.Task:
        """``work`` run beside the visit, kept until done (and awaited at close)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def report_card_taken(self) -> None:
        """Tell the hall the card it was told of has been taken (its alert shows so, for a
        person to close); a side effect: a failure is logged, and staff find no card."""
        over = getattr(self.ports.platform, "help_over", None)
        if over is None:
            return
        try:
            await over(CARD_LEFT_HELP)
        except KioskError as err:
            log.info("the hall not told the card left was taken: %s", err.detail)
            return
        log.info("the card left in the reader was taken: the hall is told")

    async def report_card_left(self) -> bool:
        """Tell the hall a card stays in a reader after the visit (a help request: this
        terminal, nothing of whose card it is); False when it did not get there."""
        try:
            await self.call_staff(CARD_LEFT_HELP)
        except KioskError as err:
            log.warning("card left in the reader not reported to the hall: %s", err.detail)
            return False
        log.info("a card stays in the reader after the visit: the hall is told")
        return True

    def limits(self) -> Timeouts:
        t = self.config.timeouts
        return Timeouts(
            idle=t.inactivity,
            warning=t.warning,
            elderly_idle=t.inactivity * t.elderly_factor,
            elderly_warning=t.warning * t.elderly_factor,
        )

    @staticmethod
    def ready_for_visits() -> None:
        """Import what a visit uses (the journey, receipts, guides, records): kept off the
        start-up path so the attract screen shows sooner; the app calls this once it
        shows, so that the first card read does not pay for it either."""
        for name in VISIT_MODULES:
            importlib.import_module(name)

    def begin(self, card: Identity | None) -> Session:
        """Start a visit (a card, a verified electronic ID, or None for services
        that need no identity)."""
        self.session = Session(card, self.now(), elderly=self.elderly, limits=self.limits())
        from kiosk.journey import Journey
        if self.catalog is None:
            self.journey = None
        elif self.calendar is None:
            self.journey = Journey(self.catalog, self.session)
        else:
            self.journey = Journey(self.catalog, self.session, self.calendar)
        self.outcome = None
        self._changed("visit")
        return self.session

    async def read_social_card(self, wait: float = 20.0, interval: float = 0.3) -> SocialSecurityCard:
        """Read the social-security card, waiting up to ``wait`` s for it to be
        inserted, and keep it in the session.

        A visit is one citizen's: a card whose holder is not the one the visit
        identified (another family member's, one found in the hall) joins nothing
        and nothing of it is kept; nor does an expired card.

        :raises NoCard: no card was inserted in time.
        :raises CardOfAnotherPerson: the card's holder is not this visit's citizen.
        :raises CardExpired: the card is past its validity date.
        :raises CardError, DeviceError: unreadable card or reader fault.
        """
        reader = self.ports.social_reader
        if reader is None:
            raise DeviceError("no social-security card reader configured")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        with self.working():
            while (card := await _read(reader)) is None:
                if loop.time() >= deadline:
                    raise NoCard("no social-security card inserted")
                await asyncio.sleep(interval)
        held = id_number_of(self.session.card) if self.session else ""
        if held and card.ss_number.upper() != held.upper():
            raise CardOfAnotherPerson("the social-security card's holder is not the citizen identified")
        if card.expiry_date is not None and self.today() > card.expiry_date:
            raise CardExpired("social-security card validity date has passed")
        if self.session is None:
            self.begin(card)
        self.session.social_card = card
        self._changed("visit")
        return card

    # -- face match (人证比对) ---------------------------------------------------
    def needs_face_match(self) -> bool:
        """A matter of the chosen life event needs the face match, not yet passed."""
        return self.journey is not None and self.journey.needs_face_match()

    async def look_face(self) -> FaceLook:
        """One live look through the face camera: preview, guidance, and the photo when usable.

        :raises DeviceError: no face camera, or it gives no frame (``error.camera``).
        """
        camera = self.ports.face_camera
        if camera is None:
            raise DeviceError("no face camera configured", message_key="error.camera")
        return await asyncio.to_thread(camera.look)

    async def match_face(self, photo: Frame) -> FaceVerdict:
        """Send the live ``photo`` for comparison with the citizen's photo of record.

        The photo is not kept: it lives in the caller's hands until the answer.
        MATCHED marks the visit verified; after MAX_ATTEMPTS refusals the
        answer is STAFF.

        :raises PlatformRejected: ``face.none`` / ``face.several`` /
            ``face.image_unreadable`` (take another; not counted), ``face.no_record``.
        :raises PlatformError: ``face.offline``, the platform cannot compare now.
        :raises SessionError: no identified citizen, or the visit ended meanwhile.
        """
        session = self.session
        if session is None or session.card is None:
            raise SessionError("no identified citizen to match")
        match = getattr(self.ports.platform, "face_match", None)
        if match is None:
            raise DeviceError("this platform has no face match", message_key="face.offline")
        with self.working():
            try:
                result = await match(id_number_of(session.card), photo.data)
            except PlatformRejected:
                raise
            except PlatformError as err:
                raise PlatformError(err.detail, message_key="face.offline") from err
        if self.session is not session:
            raise SessionError("the visit ended while the photo was compared")
        answer = verdict(bool(result.match), session.face_attempts)
        if answer is FaceVerdict.MATCHED:
            session.face_verified = True
        else:
            session.face_attempts += 1
        self._changed("face")
        return answer

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

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """The inactivity clock held while the kiosk itself works in this block (a device,
        the platform), and running again after it, however it ends."""
        self.pause(True)
        try:
            yield
        finally:
            self.pause(False)

    def tick(self) -> tuple[TimeoutStatus, float]:
        """Called once a second by the shell; warns, then ends and wipes the session."""
        if self.session is None:
            return TimeoutStatus.ACTIVE, 0.0
        was, event = self.session.state, self.session.life_event
        check = self.session.tick(self.now())  # an expired session wipes itself here
        if check.status is TimeoutStatus.WARNING and was is not State.WARNING:
            self._changed("warning")
        elif check.status is TimeoutStatus.EXPIRED:
            self.end("timeout", life_event=event)
        return check.status, check.seconds_left

    # -- materials -------------------------------------------------------------
    async def look_document(self) -> DocumentLook:
        """One live look through the document camera: preview, the page found, steady or not.

        :raises DeviceError: no document camera, or it gives no frame (``error.camera``).
        """
        camera = self.ports.document_camera
        if camera is None:
            raise DeviceError("no document camera configured", message_key="error.camera")
        return await asyncio.to_thread(camera.look)

    def stop_document_looks(self) -> None:
        """The capture screen closed: the camera keeps nothing of the last look."""
        if self.ports.document_camera is not None:
            self.ports.document_camera.forget()

    def drop_last_page(self, code: str) -> int:
        """Retake: the last captured page of a material is dropped; returns the page count."""
        j = self.journey
        pages = list(j.scan_pages.get(code, [])) if j is not None else []
        if not pages:
            return 0
        pages.pop()
        if pages:
            j.attach_scan(code, pages, self.now())
        else:
            j.forget_scan(code, self.now())
        self._changed("scanned")
        return len(pages)

    async def scan_material(self, code: str, replace: bool = False) -> int:
        """Capture one page of a material with the document camera; returns the page count.

        :raises CaptureRejected: no page in view (the citizen adjusts and tries again).
        :raises DeviceError: the camera gives no frame.
        """
        camera, j = self.ports.document_camera, self.journey
        if camera is None or j is None:
            raise DeviceError("no document camera configured")
        with self.working():
            frame = await asyncio.to_thread(camera.capture)
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
        with self.working():
            outcome = await self.ports.platform.submit(sub)
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

    def service_point(self):
        """This terminal's service point as the catalog has it (None: not in it, or no catalog)."""
        return self.catalog.service_points.get(self.config.terminal.service_point) \
            if self.catalog else None  # fmt: skip

    def call_failed(self) -> tuple[str, dict[str, str]]:
        """What to tell a citizen whose call for staff did not get through (a message key and
        its values): the hall's front desk, and its phone when the catalog gives one, else
        the 12345 government service hotline, which answers in every county."""
        point = self.service_point()
        if point is not None and point.phone:
            return "staff.call_failed", {"phone": point.phone}
        return "staff.call_failed_hotline", {}

    def receipt(self) -> Receipt:
        track = f"{self.config.platform.url.rstrip('/')}/track/"
        from kiosk.receipts import build_receipt
        # the tracking QR's code: under this terminal's secret, which the platform knows
        secret = getattr(self.ports.platform, "secret", "") or ""
        card = self.session.card if self.session is not None else None
        return build_receipt(self.outcome, self.catalog, language=self.language, track_url=track,
                             track_secret=secret,
                             life_event=self.session.life_event if self.session else "",
                             applicant=getattr(card, "name", "") or "")  # fmt: skip

    # -- printing ----------------------------------------------------------
    async def print_receipt(self, receipt: Receipt) -> None:
        """:raises PrinterError, PaperOut: see ReceiptPrinter.print_receipt."""
        if self.ports.printer is None:
            raise DeviceError("no printer configured")
        with self.working():
            try:
                await asyncio.to_thread(self.ports.printer.print_receipt, receipt)
            except KioskError:
                self._beat_now.set()  # the dashboard learns of the printer fault at once
                raise
        if self.session is not None:  # paper the end of the visit reminds them to take
            self.session.printed += 1

    async def print_outcome(self, again: bool = False) -> None:
        """Print the outcome's slip (receipt, notice or pending slip); ``again``, after a
        failure: the job the printer kept, in full, in the language the citizen reads now,
        or the slip anew when it kept none (a fault before the job began; one kept so long
        it was dropped). Not "printing…" for ever, and nothing printed twice.

        :raises PaperOut, PrinterError: no paper, or the printer fails (said, and "print
            again" offered).
        """
        receipt = self.receipt()
        if not (again and await self.reprint(receipt)):
            await self.print_receipt(receipt)
        if self.session is not None:  # the end of the visit names it: take your receipt
            self.session.receipt_printed = True

    async def reprint(self, fresh: Receipt | None = None) -> bool:
        """Print the receipt kept after a paper-out, in full (False: none kept, or kept so
        long it was dropped), in the language the citizen reads now (they may have switched
        since it was built): ``fresh``, by default the acceptance receipt built again, takes
        its place when it is the same job.

        :raises PaperOut, PrinterError: still no paper, or the printer fails.
        """
        if self.ports.printer is None:
            raise DeviceError("no printer configured")
        if fresh is None and self.outcome is not None:
            fresh = self.receipt()
        with self.working():
            return await asyncio.to_thread(self.ports.printer.reprint_pending, fresh)

    # -- query services: scanned codes, queue tickets, guides ----------------
    async def read_code(self, timeout: float = 0.5) -> str | None:
        """The next code shown to the scanner within ``timeout`` s (None: none yet).

        :raises DeviceError: no scanner configured (``error.scanner``), or it failed.
        """
        scanner = self.ports.scanner
        if scanner is None:
            raise DeviceError("no code scanner configured", message_key="error.scanner")
        return await asyncio.to_thread(scanner.read_code, timeout)

    async def take_ticket(self, kind: str):
        """A queue ticket (取号) at this terminal's service point; not retried, as a
        retry could hand out a second ticket.

        :raises PlatformRejected: unknown queue, or not this hall's point.
        :raises PlatformError: unreachable or garbled.
        """
        take = getattr(self.ports.platform, "ticket", None)
        if take is None:
            raise DeviceError("this platform hands out no tickets")
        ticket = await take(self.config.terminal.service_point, kind)
        self.record_query("ticket")
        return ticket

    async def print_ticket(self, ticket, kind_name: str = "") -> None:
        """:raises PrinterError, PaperOut: see print_receipt."""
        from kiosk.receipts import build_ticket_receipt
        receipt = build_ticket_receipt(ticket, self.catalog, language=self.language,
                                       kind_name=kind_name)  # fmt: skip
        await self.print_receipt(receipt)

    def guide(self, code: str) -> Guide:
        """Matter ``code``'s guide in the citizen's language, with its public page's URL.

        :raises ValidationError: no catalog, or no such matter.
        """
        if self.catalog is None:
            raise ValidationError("no catalog loaded", message_key="error.catalog")
        self.record_query("guide")
        from kiosk.guide import build_guide
        return build_guide(self.catalog, code, self.language, self.config.platform.url)

    # -- health ------------------------------------------------------------
    async def device_health(self) -> list[Health]:
        """Every device's own report (each call off the UI thread), and the submission
        queue's (the outbox: what waits to reach the platform, or was set aside)."""
        now = time.monotonic()
        out = [self.failed_reads.judge(await asyncio.to_thread(d.health), now)
               for d in self.ports.devices()]  # fmt: skip
        outbox = getattr(self.ports.platform, "outbox", None)
        if outbox is not None and hasattr(outbox, "health"):
            try:
                out.append(await asyncio.to_thread(outbox.health))
            except KioskError as err:  # its disk: a fault of its own, the beat still goes
                out.append(Health.fault("outbox", err.detail))
        return out

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
        beats = 0
        while beat is not None and not stop.is_set():
            beats += 1
            try:
                devices = await self.device_health()
                paper = await self.paper()
                if self.history is not None:
                    await asyncio.to_thread(
                        self.history.record, "heartbeat", devices, self.now(), paper
                    )
                reply = await beat(devices, software_version=version, screen=screen(), paper=paper,
                                   uptime=self.uptime(),
                                   catalog_version=await self.catalog_version(),
                                   config_version=self.config_version)  # fmt: skip
                await self.take_remote_config(reply)
                await self.answer_diagnostics(reply)
                if (beats - 1) % CATALOG_EVERY == 0:
                    await self.refresh_catalog()
                    await self.refresh_calendar()
            except KioskError as err:
                log.warning("heartbeat not delivered: %s", err.detail)
            except OSError as err:  # the history could not be written: the beat still matters
                log.warning("device history not written: %s", err)
            except Exception:  # noqa: BLE001 - a driver's surprise must not end the beats for good
                log.exception("heartbeat failed (the next one follows)")
            await self.send_events()  # what waited while the platform was away
            self._beat_now.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._beat_now.wait())]
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

    def beat_now(self) -> None:
        """Send the next heartbeat now, not at its interval (what the dashboard pushes
        arrives with its reply)."""
        self._beat_now.set()

    def uptime(self) -> int:
        """Seconds since the kiosk started."""
        return int(time.monotonic() - self.started)

    # -- the technician ------------------------------------------------------
    def begin_service(self) -> None:
        """A technician takes the terminal (kiosk.technician): a citizen's visit still
        open ends and is wiped, and no card starts another until :meth:`end_service`."""
        if self.session is not None:
            self.end("technician")
        self.servicing = True
        self._changed("servicing")

    def end_service(self) -> None:
        if self.servicing:
            self.servicing = False
            self._changed("serviced")

    async def find_devices(self) -> list[Finding]:
        """What is on each serial port of this machine: a printer or an ID card reader that
        answered, nothing, or the device the terminal uses there (not asked).

        :raises DeviceError: ``technician.no_finder``, the shell gave the terminal no finder.
        """
        if self.finder is None:
            raise DeviceError("no device finder", message_key="technician.no_finder")
        return await asyncio.to_thread(self.finder.find, serial_in_use(self.config),
                                       configured_rates(self.config))  # fmt: skip

    async def listen_for_scanner(self, seconds: float, stop: threading.Event) -> Finding | None:
        """The free serial port a code is scanned on within ``seconds`` (or until ``stop``):
        the scanner's; or, for a scanner that types its codes as a USB keyboard, a finding
        on ``WEDGE`` when a code is typed into the window meanwhile (``key_sink``). The code
        is not kept.

        :raises DeviceError: ``technician.no_finder``.
        """
        if self.finder is None or self.device_builder is None:
            raise DeviceError("no device finder", message_key="technician.no_finder")
        # a scanner that types (a USB keyboard) is heard in the window's keys meanwhile
        typed = self.device_builder(replace(self.config, scanner=replace(
            self.config.scanner, driver="wedge")), "scanner")  # fmt: skip
        serial = asyncio.ensure_future(asyncio.to_thread(
            self.finder.listen, serial_in_use(self.config), self.config.scanner.baudrate,
            seconds, stop))  # fmt: skip
        self.key_sink = typed
        try:
            while not serial.done():
                if typed.read_code(0) is not None:  # dropped unread, as a serial one's
                    stop.set()
                    await serial
                    return Finding(WEDGE, "", "", "scanner")
                await asyncio.wait({serial}, timeout=0.2)
            return serial.result()
        finally:
            self.key_sink = None

    async def place_device(self, device: str, port: str, baudrate: int) -> None:
        """Put ``device`` (idcard, printer, scanner) on ``port`` at ``baudrate``: kept in the
        data dir for every start from now on (kiosk.devices), and used at once (its driver
        made afresh there, the old one closed). Only while a technician has the terminal:
        no citizen's visit is using the device.

        :raises DeviceError: ``technician.not_servicing``; ``technician.no_finder`` (the
            shell gave no way to make drivers); ``technician.ports_not_kept``, the data dir
            could not be written (nothing changed).
        """
        await self._use(Placement(device, port, baudrate))

    async def camera_views(self) -> list[CameraView]:
        """What each camera shows now (a small picture), and whether that is what it is for:
        a page under the document camera, a face before the face camera. Never raises: a
        camera with no picture says why."""
        out = []
        for device in CAMERAS:
            camera, source = getattr(self.ports, device), where(self.config, device)
            if camera is None:
                continue
            try:
                look = await asyncio.to_thread(camera.look)
            except KioskError as err:
                out.append(CameraView(device, source, None, "", err.detail))
                continue
            found = (getattr(look, "corners", None) is not None if device == "document_camera"
                     else getattr(look, "box", None) is not None)  # fmt: skip
            kind = "page" if device == "document_camera" else "face"
            out.append(CameraView(device, source, look.preview, kind if found else ""))
        return out

    async def swap_cameras(self) -> None:
        """The document camera's source is the face camera's and the other way round (two
        cables swapped on the hub), now and at every start.

        :raises DeviceError: as :meth:`place_device`; ``technician.no_cameras``, the kiosk
            has not both cameras.
        """
        try:
            placements = swapped_cameras(self.config)
        except ValueError as err:
            raise DeviceError(str(err), message_key="technician.no_cameras") from err
        await self._use(*placements)

    async def set_paper(self, mm: int) -> None:
        """The receipt paper is ``mm`` wide (58 or 80): receipts are laid out for it from
        now on, and at every start (kept beside the placements).

        :raises DeviceError: as :meth:`place_device`; ``technician.no_printer``.
        :raises ValueError: not a width the printer driver knows.
        """
        if self.ports.printer is None:
            raise DeviceError("no printer configured", message_key="technician.no_printer")
        if mm not in PAPER_WIDTHS:
            raise ValueError(f"paper {mm} mm")
        await self._change_devices(partial(save_paper, self.base_config.data_dir, mm),
                                   partial(with_paper, mm=mm), ["printer"])  # fmt: skip

    async def _use(self, *placements: Placement) -> None:
        """The devices of ``placements`` where they say, kept and used at once."""
        chosen = {p.device: p for p in placements}
        await self._change_devices(
            partial(save_placement, self.base_config.data_dir, *placements),
            partial(with_placements, placements=chosen), list(chosen))  # fmt: skip

    async def _change_devices(self, keep: Callable[[], object],
                              change: Callable[[KioskConfig], KioskConfig],
                              devices: list[str]) -> None:  # fmt: skip
        """``keep()`` the technician's choice in the data dir, then ``change`` the
        configuration by it and make the ``devices``' drivers afresh (the old ones closed)."""
        if not self.servicing:
            raise DeviceError("devices are placed from the technician screen only",
                              message_key="technician.not_servicing")  # fmt: skip
        if self.device_builder is None:
            raise DeviceError("no way to make device drivers", message_key="technician.no_finder")
        try:  # kept first: a choice the terminal cannot keep would be gone at its next start
            await asyncio.to_thread(keep)
        except OSError as err:
            raise DeviceError(f"device ports not kept: {err}",
                              message_key="technician.ports_not_kept") from err  # fmt: skip
        self.base_config, self.config = change(self.base_config), change(self.config)
        for device in devices:
            attr = PORT_OF[device]
            old, fresh = getattr(self.ports, attr), self.device_builder(self.config, device)
            setattr(self.ports, attr, fresh)
            if device == "scanner" and fresh is not None:
                # a scanner's port is opened by its first read: open it now, so that its
                # state says whether it opens (not "not opened yet" until the technician left)
                with contextlib.suppress(KioskError):
                    await asyncio.to_thread(fresh.read_code, 0.05)
            if old is not None:
                try:
                    await asyncio.to_thread(old.close)
                except KioskError as err:
                    log.warning("closing the %s's old driver failed: %s", device, err.detail)
            log.info("%s set anew by the technician: %s", device, where(self.config, device))
        self._changed("devices")
        self.beat_now()  # the dashboard hears of the devices' new state now

    async def enrol(self, code: str) -> str:
        """Enrol this terminal with a one-time code typed by the technician; from now on it
        speaks to the platform as the terminal the platform named. Returns that id.

        :raises DeviceError: ``technician.no_enrolment``, no platform to enrol with.
        :raises PlatformRejected: the code is unknown, used or expired (``enrol.bad_code``).
        :raises PlatformError: the platform is unreachable.
        """
        if self.enroller is None:
            raise DeviceError("no platform to enrol with", message_key="technician.no_enrolment")
        terminal_id, point = await self.enroller(code)
        self.config = as_enrolled(self.config, terminal_id, point)
        self.base_config = as_enrolled(self.base_config, terminal_id, point)
        self.enrolled = True
        log.info("enrolled as terminal %s", terminal_id)
        self._changed("enrolled")
        return terminal_id

    # -- end ---------------------------------------------------------------
    def end(self, reason: str = "finished", life_event: str | None = None) -> None:
        """Wipe the session: no personal data outlives it, nor any queued print.

        The visit is counted for the hall (how long, how it ended, which life event,
        whether something was submitted) and reported in the background.
        """
        if self.session is not None:
            self._record(self._visit(self.session, reason, life_event))
            self.session.end(reason)
        if self.journey is not None:
            self.journey.wipe()
        if self.ports.printer is not None:
            self.ports.printer.discard_pending()
        self.session = self.journey = self.outcome = None
        self._take_next_catalog()
        self._changed("ended")

    async def refresh_catalog(self) -> bool:
        """Ask the platform whether its catalog changed (a conditional GET) and, if it
        did, check and keep the new one; a visit under way finishes on the catalog it
        began with. True when a new catalog was taken. A side effect: failures are
        logged and the catalog in use stays."""
        from kiosk.catalog.sync import accept

        got = await self._download("catalog", self.catalog_etag, self.catalog_cache, accept)
        if got is None:
            return False
        self._next_catalog, self.catalog_etag = got.value, got.etag
        if self.session is None:
            self._take_next_catalog()
        return True

    async def refresh_calendar(self) -> bool:
        """Ask the platform whether its holiday calendar changed and, if it did, check and
        keep the new one; visits from now on count by it. True when one was taken. Failures
        are logged and the calendar in use stays."""
        from kiosk.calendar_sync import accept

        got = await self._download("calendar", self.calendar_etag, self.calendar_cache, accept)
        if got is None:
            return False
        self.calendar, self.calendar_etag = got.value, got.etag
        return True

    async def _download(self, what: str, etag: str, cache, accept) -> Kept | None:
        """The platform's ``what`` (its port's method of that name) if it changed since
        ``etag``, checked by ``accept`` and kept in ``cache`` (kiosk/downloads.py); None when
        unchanged, or when it failed (logged: what is in use stays)."""
        fetch = getattr(self.ports.platform, what, None)
        if fetch is None or cache is None:
            return None
        try:
            data, new_etag = await fetch(etag)
            if data is None:
                return None  # unchanged
            value = await asyncio.to_thread(accept, data)
            await asyncio.to_thread(cache.save, data, new_etag)
        except KioskError as err:  # unreachable, garbled, or not a valid one
            log.warning("%s not refreshed: %s", what, err.detail)
            return None
        except OSError as err:
            log.warning("%s not kept on disk: %s", what, err)
            return None
        from kiosk.downloads import Kept

        return Kept(value, new_etag)

    def _take_next_catalog(self) -> None:
        if self._next_catalog is not None:
            self.catalog, self._next_catalog = self._next_catalog, None
            self._catalog_version = None  # the fingerprint is of the new catalog
            self._changed("catalog")

    async def catalog_version(self) -> str:
        """The catalog's fingerprint, as the platform's catalog ETag names the same catalog."""
        if self._catalog_version is None:
            if self.catalog is None:
                self._catalog_version = ""
            else:

                def fingerprint() -> str:
                    import hashlib
                    import json

                    data = json.dumps(self.catalog.to_dict(), ensure_ascii=False, sort_keys=True)
                    return hashlib.sha256(data.encode()).hexdigest()[:32]

                self._catalog_version = await asyncio.to_thread(fingerprint)
        return self._catalog_version

    def apply_remote_config(self, version: int, settings: object) -> None:
        """Lay the dashboard's settings (timeouts, notices, elderly default) over the
        terminal's own configuration. The visit under way keeps its timeouts; the next
        one starts with the new ones. ``version`` is acknowledged in the next heartbeat."""
        self.config = with_remote(self.base_config, settings)
        self.config_version = version
        self.notices[:] = list(self.config.terminal.notices) or [""]
        if self.session is None:
            self.elderly = self.config.terminal.elderly_default
        log.info("remote configuration %d applied", version)
        self._changed("config")

    async def take_remote_config(self, reply: object) -> bool:
        """Apply (and keep on disk) the settings a heartbeat reply carries, if they are new."""
        if not isinstance(reply, dict) or "config" not in reply:
            return False
        version = reply.get("config_version")
        if (
            not isinstance(version, int)
            or isinstance(version, bool)
            or version == self.config_version
        ):
            return False
        self.apply_remote_config(version, reply["config"])
        try:
            await asyncio.to_thread(
                save_remote, self.base_config.data_dir, version, reply["config"]
            )
        except OSError as err:  # applied now; after a restart the platform sends it again
            log.warning("remote configuration not kept on disk: %s", err)
        return True

    async def answer_diagnostics(self, reply: object) -> list[int]:
        """Build and upload a diagnostics bundle for each request a heartbeat reply names
        (``{"diagnostics": [id, ...]}``); the ids answered. A side effect: a failure is
        logged, and a request that could not be delivered is tried at the next beat."""
        asked = reply.get("diagnostics") if isinstance(reply, dict) else None
        upload = getattr(self.ports.platform, "upload_diagnostics", None)
        if not isinstance(asked, list) or self.diagnostics is None or upload is None:
            return []
        done = []
        for request_id in asked:
            if not isinstance(request_id, int) or request_id in self._answered:
                continue
            self._answered.add(request_id)
            try:
                bundle = await asyncio.to_thread(self.diagnostics)
                await upload(bundle, request_id)
                done.append(request_id)
                log.info("diagnostics bundle uploaded for request %d", request_id)
            except PlatformRejected as err:  # answered already, or refused: asking again is no use
                log.warning("diagnostics request %d refused: %s", request_id, err.detail)
            except DiagnosticsError as err:  # not sent: the dashboard is told why, not left waiting
                log.warning("diagnostics request %d not answered: %s", request_id, err.detail)
                await self._refuse_diagnostics(request_id, err.reason)
            except KioskError as err:
                log.warning("diagnostics request %d not answered yet: %s", request_id, err.detail)
                if isinstance(err, PlatformError):
                    self._answered.discard(request_id)
        return done

    async def _refuse_diagnostics(self, request_id: int, reason: str) -> None:
        refuse = getattr(self.ports.platform, "refuse_diagnostics", None)
        if refuse is None or not reason:  # nothing the platform would show: left to expire
            return
        try:
            await refuse(request_id, reason)
        except PlatformRejected as err:  # an older platform, or no such request: left to expire
            log.warning("diagnostics request %d: refusal not taken: %s", request_id, err.detail)
        except PlatformError as err:  # away: the next beat asks again, and this is said again
            log.warning("diagnostics request %d: refusal not delivered: %s", request_id, err.detail)
            self._answered.discard(request_id)

    # -- what the hall counts ------------------------------------------------------
    def _visit(self, s: Session, reason: str, life_event: str | None) -> dict:
        seconds = max(0.0, (self.now() - s.started_at).total_seconds())
        return {"key": uuid.uuid4().hex, "kind": "session", "at": s.started_at.isoformat(),
                "seconds": round(min(seconds, 86400.0), 1), "end": reason or "finished",
                "life_event": s.life_event if life_event is None else life_event,
                "submitted": self.outcome is not None, "elderly": s.elderly,
                "language": self.language if self.language in ("zh", "en") else "zh"}  # fmt: skip

    def record_query(self, what: str, found: bool = True) -> None:
        """Count a look-up (``what``: "progress", "record", ...); never the number looked up."""
        self._record({"key": uuid.uuid4().hex, "kind": "query", "at": self.now().isoformat(),
                      "what": what, "found": found})  # fmt: skip

    def _record(self, event: dict) -> None:
        self._events.append(event)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a script, a test): the next heartbeat sends it
        self._background(self.send_events())

    def pending_events(self) -> list[dict]:
        return list(self._events)

    async def send_events(self) -> int:
        """Report the counted visits and queries, oldest first; a side effect, so a failure
        is logged and they wait for the next try. Returns how many were sent."""
        send = getattr(self.ports.platform, "send_events", None)
        if send is None:
            self._events.clear()  # nowhere to report them
            return 0
        sent = 0
        async with self._sending:
            while self._events:
                batch = list(itertools.islice(self._events, EVENTS_BATCH))
                try:
                    await send(batch)
                except PlatformRejected as err:
                    if err.status not in (400, 413, 422):  # not trusted now (clock, enrolment)
                        log.info("visit/query events not delivered yet: %s", err.detail)
                        return sent
                    # a batch it will never take: do not retry it forever
                    log.warning(
                        "%d visit/query events refused and dropped: %s", len(batch), err.detail
                    )
                except KioskError as err:
                    log.info("visit/query events not delivered yet: %s", err.detail)
                    return sent
                else:
                    sent += len(batch)
                for _ in batch:
                    self._events.popleft()
        return sent

    async def progress(self, number: str) -> Progress:
        """Look up an application's progress (counted as a query, the number is not kept).

        :raises PlatformRejected: no such application (404).
        :raises PlatformError: unreachable or garbled.
        """
        if self.ports.platform is None:
            raise DeviceError("no platform configured")
        try:
            found = await self.ports.platform.progress(number)
        except PlatformRejected as err:
            if err.status == 404:
                self.record_query("progress", found=False)
            raise
        self.record_query("progress", found=True)
        return found

    async def my_applications(self) -> list[Progress]:
        """The identified citizen's own applications, newest first (by the ID number of the
        card read at the start of this visit: the platform answers only for a fresh read).

        :raises SessionError: nobody identified by a card in this visit.
        :raises PlatformRejected: the card was read too long ago (403: read it again).
        :raises PlatformError: unreachable or garbled.
        """
        if self.ports.platform is None:
            raise DeviceError("no platform configured")
        card = self.session.card if self.session is not None else None
        number = id_number_of(card)
        if not number:
            raise SessionError("no card read in this visit", message_key="error.no_card")
        found = await self.ports.platform.applications_of(number, card_read_at=self.session.started_at)
        self.record_query("progress", found=bool(found))
        return found

    async def social_insurance_record(self) -> ContributionRecord:
        """The identified citizen's social-insurance contribution record (社保缴费记录), by
        the ID number of the card read at the start of this visit: the platform answers
        only for a fresh read. Counted as a query; nothing of it is kept here.

        :raises SessionError: ``record.lay_card``, nobody identified by a card in this
            visit; or the visit ended while the platform answered.
        :raises PlatformRejected: ``record.card_again``, the card was read too long ago
            (403); ``record.refused``, the platform refused the number.
        :raises PlatformError: ``record.offline``, unreachable or garbled (or no platform).
        """
        session = self.session
        number = id_number_of(session.card if session is not None else None)
        if not number:
            raise SessionError("no card read in this visit", message_key="record.lay_card")
        ask = getattr(self.ports.platform, "social_insurance_record", None)
        if ask is None:
            raise PlatformError("this platform prints no records", message_key="record.offline")
        with self.working():
            try:
                record = await ask(number, card_read_at=session.started_at)
            except PlatformRejected as err:
                key = "record.card_again" if err.status == 403 else "record.refused"
                raise PlatformRejected(err.detail, status=err.status, message_key=key) from err
            except PlatformError as err:
                raise PlatformError(err.detail, message_key="record.offline") from err
        if self.session is not session:
            raise SessionError("the visit ended while the record was asked for")
        self.record_query("record", found=bool(record.months))
        return record

    def record_receipt(self, record: ContributionRecord) -> Receipt:
        """The slip of ``record`` for the citizen of this visit, in their language.

        :raises SessionError: ``record.lay_card``, nobody identified by a card.
        """
        card = self.session.card if self.session is not None else None
        if not id_number_of(card):
            raise SessionError("no card read in this visit", message_key="record.lay_card")
        from kiosk.records import build_record_receipt
        return build_record_receipt(record, name=card.name, id_number=id_number_of(card),
                                    point_name=self.point_name_in(self.language),
                                    terminal_id=self.config.terminal.id, language=self.language,
                                    printed_at=self.now(),
                                    visit_began=self.session.started_at)  # fmt: skip

    async def print_record(self, record: ContributionRecord, again: bool = False) -> None:
        """Print the slip of ``record``; ``again`` after a failure: the job the printer
        kept (paper out) in full, or a new one when it kept none.

        :raises PaperOut: ``record.paper_out``, no paper (the job is kept for ``again``).
        :raises PrinterError: ``record.printer``, the printer fails or there is none.
        :raises SessionError: ``record.lay_card``, nobody identified by a card.
        """
        receipt = self.record_receipt(record)
        try:
            if not (again and await self.reprint(receipt)):
                await self.print_receipt(receipt)
        except PaperOut as err:
            raise PaperOut(err.detail, message_key="record.paper_out") from err
        except DeviceError as err:
            raise PrinterError(err.detail, message_key="record.printer") from err

    async def say(self, text: str, always: bool = False) -> None:
        """A voice prompt in elderly mode, or ``always`` (a card left behind: everyone hears
        it); a side effect: silence is no failure."""
        if not ((self.elderly or always) and self.ports.speech and text):
            return
        try:
            await asyncio.to_thread(self.ports.speech.say, text, self.language)
        except KioskError as err:
            log.warning("voice prompt failed: %s", err.detail)

    def set_language(self, language: str) -> None:
        self.language = language
        self._changed("language")

    def point_name_in(self, language: str) -> str:
        """This terminal's service point named in ``language`` (the catalog's name); the
        configured name in Chinese when there is one, or when the catalog does not list the
        point; its code when nothing names it (enrolled at a point this catalog lacks)."""
        t = self.config.terminal
        point = self.service_point()
        if language == "zh" and t.point_name:
            return t.point_name
        if point is not None:
            return point.name.get(language)
        return t.point_name or t.service_point

    def toggle_elderly(self) -> None:
        self.elderly = not self.elderly
        if self.session is not None:
            self.session.elderly = self.elderly
        self._changed("elderly")

    async def aclose(self) -> None:
        """Close the devices and the platform connection (inside the running loop)."""
        self.close()
        if self._events or self._tasks:  # the last visit's count, if the platform is there
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.send_events(), 3.0)
            for task in list(self._tasks):
                task.cancel()
        close = getattr(self.ports.platform, "close", None)
        if close is not None:
            await close()

    def close(self) -> None:
        for d in self.ports.devices():
            try:
                d.close()
            except KioskError as err:
                log.warning("closing %s failed: %s", getattr(d, "name", d), err.detail)
