"""The Kivy application: page chrome, the screen manager, the card watcher,
the inactivity countdown. Screens get the small things they need (the
terminal service, a navigator); business rules stay in the core."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib
import logging
import time
from pathlib import Path

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.config import china_time
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, translate
from kiosk.identity import ElectronicId
from kiosk.session import TimeoutStatus
from kiosk.terminal import Terminal
from screens import header, widgets  # noqa: F401 - registers FittedLine, BigButton, Tile (Factory)
from screens.attract import AttractScreen
from screens.base import KioskScreen
from screens.timeout import StillThere

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
START_KV = ("widgets.kv", "attract.kv", "app.kv")  # all the first (attract) frame needs
# Every other screen (screens/<name>.py): its class, the .kv files it needs (loaded once,
# in order), and whether it takes ``on_finish``. They are built after the first frame, one
# step a frame, in this order (the likeliest first), or at once when asked for earlier.
LATER: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "home": ("HomeScreen", ("home.kv",), True),
    "question": ("QuestionScreen", ("question.kv",), False),
    "form": ("FormScreen", ("keyboard.kv", "form.kv"), False),
    "materials": ("MaterialsScreen", ("materials.kv",), False),
    "capture": ("CaptureScreen", ("capture.kv",), False),
    "review": ("ReviewScreen", ("form.kv", "review.kv"), False),
    "outcome": ("OutcomeScreen", ("outcome.kv",), False),
    "rate": ("RateScreen", ("rate.kv",), False),
    "end": ("EndScreen", ("end.kv",), True),
    "face": ("FaceScreen", ("face.kv",), False),
    "search": ("SearchScreen", ("keyboard.kv", "search.kv"), False),
    "guide": ("GuideScreen", ("form.kv", "guide.kv"), False),
    "progress": ("ProgressScreen", ("keyboard.kv", "search.kv", "progress.kv"), True),
    "ticket": ("TicketScreen", ("ticket.kv",), True),
    "record": ("RecordScreen", ("record.kv",), True),
    "technician_pin": ("TechnicianPinScreen", ("keyboard.kv", "technician_pin.kv"), False),
    "technician": ("TechnicianScreen", ("keyboard.kv", "technician.kv"), False),
}
ELDERLY_SCALE = 1.3
CALLED_SECONDS = 20  # the header says staff were called this long
CALL_FAILED_SECONDS = 60  # ... or where help is instead, when the call did not get through
ENTER_KEYS = (13, 271)  # Return, and Enter on a numeric keypad (Kivy key codes)


class KeepRunning(ExceptionHandler):
    """A bug in one screen must never close the kiosk: log it for the technician,
    tell the citizen calmly, and keep the window alive."""

    def __init__(self, app: KioskApp):
        super().__init__()
        self.app = app

    def handle_exception(self, exc):
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        log.error("unexpected error in the UI", exc_info=exc)
        self.app._notify(("error.generic", {}), CALL_FAILED_SECONDS)  # passes, as every notice
        return ExceptionManager.PASS


class KioskScreens(ScreenManager):
    """The screen manager of app.kv: a screen not built yet is built when first asked
    for (``current = name``, ``get_screen``). ``screens`` lists the built ones only."""

    build_screen = None  # set by KioskApp.build: name → adds that screen

    def get_screen(self, name):
        if self.build_screen is not None and not self.has_screen(name) and name in LATER:
            self.build_screen(name)
        return super().get_screen(name)


Factory.register("KioskScreens", cls=KioskScreens)

IDLE_COLLECTION_EVERY = 600.0  # seconds: the full collection of a kiosk nobody is using


def between_visits_collection() -> None:
    """A full garbage collection now, and none by Python's own choice from then on.

    A full collection walks every object the app holds (the catalog, every screen's
    widgets: 400 000 and more) and stalled a frame for 60-190 ms, mid-journey, whenever
    Python chose to run one. So the kiosk runs it itself when a visit has ended (and
    now and then while idle), and Python's automatic collections are left to the young
    generations (about 1 ms each)."""
    gc.collect()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)  # no automatic full collection
    _return_freed_memory()


def _libc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _libc_trim()


def _return_freed_memory() -> None:
    """Give the memory a visit freed back to the system (glibc otherwise keeps it in
    the heap, and a night of visits left the kiosk 4-7 MB larger than it needs)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


class KioskApp(App):
    language = StringProperty("zh")
    scale = NumericProperty(1.0)
    clock_text = StringProperty("")
    point_name = StringProperty("")
    notice = StringProperty("")  # a passing message in the header (e.g. staff called)
    # how the last call for staff went, while its notice shows: the button the citizen
    # pressed says so too, under their finger ("" | "called" | "failed")
    call_state = StringProperty("")
    portrait = BooleanProperty(True)  # the screen's orientation, for layouts that differ

    def __init__(self, terminal: Terminal, notices: list[str], point_name: str, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        self.notices = notices
        self._point_name = point_name  # as configured: where the catalog does not name the point
        self.language = terminal.language
        self.point_name = self._point_name_now()
        self.scale = ELDERLY_SCALE if terminal.elderly else 1.0
        self._stopping = asyncio.Event()
        self._watcher: asyncio.Task | None = None
        self._visit_over = asyncio.Event()
        self._still_there: StillThere | None = None
        self._notice: tuple[str, dict] | None = None  # the header's notice, as a message key
        self._notice_event = None  # the Clock event that ends it
        self._kv_loaded: set[str] = set()
        self._corners = None  # the technician's corner gesture, watched from the second frame
        self._warmed = 0  # the home screen's two start-up steps done
        self._visits_ready = False  # what a visit uses imported (Terminal.ready_for_visits)
        # the visit's garbage: collected just after the visit's last screen is drawn, always
        # (a collection left for a quiet moment never came in a busy hall: +0.7 MB a visit)
        self._collect_soon = Clock.create_trigger(lambda _dt: between_visits_collection(), 0.3)

    def _point_name_now(self) -> str:
        """The header's service point, named in the citizen's language."""
        return self.terminal.point_name_in(self.language) or self._point_name

    # -- translation, for .kv bindings: ``app.t(key, app.language)`` -----
    def t(self, key: str, _language: str | None = None, **values) -> str:
        return translate(key, self.language, **values)

    def build(self):
        ExceptionManager.add_handler(KeepRunning(self))
        self.portrait = Window.height >= Window.width
        # The screens' white is the window's clear colour, not a rectangle each screen draws:
        # on software GL (llvmpipe) every full-window fill costs about 35 ms a frame.
        Window.clearcolor = (1, 1, 1, 1)
        self.title = translate("app.title")
        for name in START_KV:
            self._load_kv_file(name)
        root = Builder.load_string("KioskRoot:\n")
        sm = root.ids.sm
        sm.build_screen = self._build_screen
        sm.transition = NoTransition()  # FBO fades cost 150+ ms a switch on software GL
        sm.add_widget(AttractScreen(self.notices, on_start=self.start_without_card, name="attract"))
        self.terminal.subscribe(self._on_terminal)
        return root

    # -- building the screens: the attract one at start, the others after its first frame
    def _load_kv_file(self, name: str) -> None:
        """Load one of the screens' .kv files, once."""
        if name not in self._kv_loaded:
            self._kv_loaded.add(name)
            Builder.load_file(str(KV_DIR / name))

    def _build_screen(self, name: str) -> None:
        """Build the screen ``name`` (its .kv files first) and add it to the manager."""
        cls, kv_files, finishing = LATER[name]
        for kv in kv_files:
            self._load_kv_file(kv)
        kw = {"on_finish": self.finish} if finishing else {}
        screen_cls = getattr(importlib.import_module(f"screens.{name}"), cls)
        self.screens.add_widget(screen_cls(self.terminal, self.show, name=name, **kw))

    def _next_step(self) -> bool:
        """Do one piece of the remaining start-up work (load a .kv file or build one screen);
        False when nothing is left."""
        if self._corners is None:  # the technician's gesture on the header's corners
            from screens.technician_pin import CornerWatch

            self._corners = CornerWatch(lambda: self.root.ids.header, self.open_technician)
            self._corners.start()  # held here: Kivy binds weakly
            return True
        for name, (_cls, kv_files, _finishing) in LATER.items():
            if self.screens.has_screen(name):
                continue
            kv = next((kv for kv in kv_files if kv not in self._kv_loaded), None)
            if kv is not None:
                self._load_kv_file(kv)
            else:
                self._build_screen(name)
            return True
        if "timeout.kv" not in self._kv_loaded:
            self._load_kv_file("timeout.kv")
            return True
        if not self._visits_ready:
            self._visits_ready = True
            self.terminal.ready_for_visits()
            return True
        if self._warmed < 2:  # the home screen's tiles laid out and their words drawn now,
            self._warmed += 1  # not in the frame that first shows them (about 100 ms)
            home = self.screens.get_screen("home")
            if self._warmed == 1:
                home.warm()
                home.size = self.screens.size  # laid out by the next frame
            else:
                for label in home.walk(restrict=True):
                    if isinstance(label, Label) and label.texture is not None:
                        label.texture.bind()  # Kivy renders a label's words when first bound
            return True
        return False

    def _after_first_frame(self, *_):
        Window.unbind(on_flip=self._after_first_frame)
        Clock.schedule_interval(self._start_up_step, 0)  # one step a frame

    def _start_up_step(self, _dt) -> bool:
        if self._next_step():
            return True
        between_visits_collection()
        Clock.schedule_interval(self._collect_when_idle, IDLE_COLLECTION_EVERY)
        return False  # unscheduled

    def _collect_when_idle(self, _dt) -> None:
        """A quiet night's full collection, now and then, while nobody is served."""
        if self.screens.current == "attract" and self.terminal.session is None:
            between_visits_collection()

    @property
    def screens(self):
        return self.root.ids.sm

    def show(self, name: str) -> None:
        if name == "form" and self.terminal.needs_face_match():
            name = "face"  # a bundle that needs the face match has it before its form
        self.screens.current = name
        if self.terminal.elderly:  # elderly mode reads each new screen aloud
            spoken = getattr(self.screens.current_screen, "spoken", lambda: "")()
            asyncio.get_event_loop().create_task(self.terminal.say(spoken))

    def on_start(self):
        self._tick(0)
        Clock.schedule_interval(self._tick, 1.0)
        # Every touch anywhere, keyboard taps included, resets the inactivity timer.
        Window.bind(on_touch_down=lambda *_: self.terminal.touch())
        Window.bind(on_flip=self._after_first_frame)  # then the other screens, one step a frame
        self._hand_keys_to_wedge_scanner()
        self._watcher = asyncio.get_event_loop().create_task(self._watch_cards())

    def _hand_keys_to_wedge_scanner(self) -> None:
        """A keyboard-wedge code scanner (``scanner.driver = "wedge"``) types its codes as a
        USB keyboard: every key the window gets goes to it, and none reaches a form field
        (a kiosk has no keyboard of its own; the citizen types on the screen's). Looked up
        at each key: a technician may switch to one (or try one: ``Terminal.key_sink``)."""

        def sink():
            target = self.terminal.key_sink
            return getattr(target if target is not None else self.terminal.ports.scanner,
                           "feed_key", None)  # fmt: skip

        def typed(_window, text: str) -> bool:
            feed = sink()
            if feed is None:
                return False
            now = time.monotonic()
            for char in text:
                feed(char, now)
            return True  # handled: not typed into a focused field

        def key_down(_window, key: int, *_args) -> bool:
            feed = sink()
            if feed is not None and key in ENTER_KEYS:  # the end of a code
                feed("\r", time.monotonic())
                return True
            return False

        Window.bind(on_textinput=typed, on_key_down=key_down)

    def on_stop(self):
        self._stopping.set()
        if self._watcher:
            self._watcher.cancel()

    def _tick(self, _dt):
        self.clock_text = china_time().strftime("%Y-%m-%d %H:%M")
        status, left = self.terminal.tick()
        if status is TimeoutStatus.WARNING and self._still_there is not None:
            self._still_there.seconds = int(left)

    # -- the card watcher: attract → identified → (visit) → card removed ----
    async def _watch_cards(self):
        """Visits begun by a card laid down (or an electronic ID shown), one after another,
        for as long as the kiosk runs: a defect in one round is logged and the next begins
        (the kiosk would otherwise read no card again until restarted, and say nothing)."""
        pause = 1.0
        while not self._stopping.is_set():
            try:
                if not await self._one_visit_by_card():
                    return
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - see above
                log.exception("watching the card readers failed; watching again in %.0f s", pause)
                # the visit it began ends (wiped, its screens told), and its card is taken
                # away before the next: never a second visit begun over it
                with contextlib.suppress(Exception):
                    if self.terminal.session is not None:
                        self.terminal.end("error")
                        self.show("attract")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)
                pause = min(pause * 2, 30.0)
                with contextlib.suppress(Exception):
                    await self.terminal.wait_for_cards_removed(self._stopping)

    async def _one_visit_by_card(self) -> bool:
        """Wait for a card and see its visit through; False when the kiosk is stopping."""
        # An electronic ID QR is taken where the citizen is asked to identify.
        card = await self.terminal.wait_for_card(
            self._stopping, codes=lambda: self.screens.current in ("attract", "home")
        )
        if card is None:
            return False
        current = self.screens.current_screen
        if self.screens.current == "progress" and current.mode == "id":
            current.card_read()  # laid where "my applications" asked for it: shown there
        else:
            if self.screens.current == "home":  # a card-less visit has just been identified
                home = self.screens.get_screen("home")
                home.error = ""
                home.on_pre_enter()
            self.show("home")
        self._visit_over.clear()
        removal = asyncio.ensure_future(self.terminal.end_when_card_removed(self._stopping))
        try:
            await self._visit_over.wait()
        finally:
            removal.cancel()
        await self.terminal.wait_for_cards_removed(self._stopping)
        return True

    def _on_terminal(self, what: str):
        if what.startswith("error:") and self.screens.current in ("attract", "home"):
            self._identify_note(self.t(what.removeprefix("error:")), problem=True)
        elif what == "eid:verifying" and self.screens.current in ("attract", "home"):
            self._identify_note(self.t("eid.verifying"), problem=False)
        elif what.startswith("track:") and self.screens.current in ("attract", "home"):
            self.open_service("progress")  # a receipt's QR shown where one identifies: its progress
            self.screens.current_screen.query(what.removeprefix("track:"))
        elif what == "warning":
            limits = self.terminal.limits()
            seconds = limits.elderly_warning if self.terminal.elderly else limits.warning
            self._load_kv_file("timeout.kv")
            self._dismiss_still_there()  # never two: the one under would stay for good
            self._still_there = StillThere(on_continue=self.terminal.touch, seconds=int(seconds))
            self._still_there.open()
        elif what in ("resumed", "visit"):  # a card laid meanwhile starts a visit: they are here
            self._dismiss_still_there()
        elif what == "catalog":  # a new catalog from the platform: tiles are drawn anew
            self.screens.get_screen("home").catalog_changed()
            self.point_name = self._point_name_now()
        elif what in ("language", "enrolled"):  # enrolled: perhaps at another hall
            self.point_name = self._point_name_now()
            if what == "language" and isinstance(self.screens.current_screen, KioskScreen):
                self.screens.current_screen.relanguage()  # its rows, tiles, options
            if self._notice is not None:  # the header's notice in the language chosen
                self.notice = self.t(self._notice[0], **self._notice[1])
            if self.screens.current == "attract":  # the hall's notices again, in this language
                self.screens.current_screen.restart_notices()
        elif what == "cards_left":  # a card still in a reader after the visit, or taken
            left = bool(self.terminal.cards_left)
            if self.screens.current == "end":
                self.screens.current_screen.cards_changed()
            # the goodbye asks for it; past it (given up, or skipped) the attract screen tells
            self.screens.get_screen("attract").card_left = left and self.screens.current != "end"
        elif what == "ended":
            if self._notice is not None:  # the visit's news is not the next citizen's
                self._notice_over()
            for screen in self.screens.screens:
                if hasattr(screen, "wipe"):
                    screen.wipe()  # nothing of this citizen stays on a widget
            self._dismiss_still_there()
            self._visit_over.set()
            if self.screens.current not in ("attract", "end"):
                self.show("attract")  # a timeout: the form, scans and faces are already gone
            self._collect_soon()

    def _identify_note(self, text: str, problem: bool) -> None:
        """Where the citizen identifies: a card or e-ID problem, or 'checking your e-ID'."""
        screen = self.screens.current_screen
        if self.screens.current == "attract":
            screen.problem, screen.info = (text, "") if problem else ("", text)
        else:
            screen.error, screen.message = (text, "") if problem else ("", text)

    # -- intents from the chrome ------------------------------------------
    def start_without_card(self):
        self.terminal.begin(None)
        self.show("home")
        self._visit_over.set()  # no card visit: the watcher keeps polling

    def open_service(self, name: str):
        """A service that needs no card (progress query, ticket), from the attract screen."""
        if self.terminal.session is None:
            self.terminal.begin(None)
            self._visit_over.set()  # no card visit: the watcher keeps polling
        self.show(name)

    def open_technician(self):
        """The technician's corner gesture was made: the PIN pad, unless the kiosk is busy
        for a citizen (printing, submitting) or the technician is already in."""
        current = self.screens.current_screen
        busy = getattr(current, "busy", False) or self._still_there is not None
        if busy or self.screens.current.startswith("technician"):
            return
        self.screens.get_screen("technician_pin").back_to = self.screens.current
        self.show("technician_pin")

    def finish(self):
        session = self.terminal.session
        physical = session is not None and not isinstance(session.card, (ElectronicId, type(None)))
        if physical and self.screens.current != "end":
            self.show("end")  # a card may still lie on the reader: "take your card" first
            return
        if session is not None:
            self.terminal.end()
        self.show("attract")
        # a card left in a reader past the goodbye: the next citizen is told staff will come
        self.screens.current_screen.card_left = bool(self.terminal.cards_left)

    def toggle_language(self):
        i = LANGUAGES.index(self.language)
        self.language = LANGUAGES[(i + 1) % len(LANGUAGES)]
        self.terminal.set_language(self.language)

    def toggle_elderly(self):
        self.terminal.toggle_elderly()
        self.scale = ELDERLY_SCALE if self.terminal.elderly else 1.0

    def call_staff(self):
        asyncio.get_event_loop().create_task(self._call_staff(self.screens.current))

    async def _call_staff(self, screen: str):
        visit = self.terminal.session
        try:
            await self.terminal.call_staff(screen)
            said, state = (("staff.called", {}), CALLED_SECONDS), "called"
        except KioskError as err:
            log.warning("help request not delivered: %s", err.detail)
            # where help is instead, for long enough to find a pen or walk to the desk
            said, state = (self.terminal.call_failed(), CALL_FAILED_SECONDS), "failed"
        if self.terminal.session is visit:  # (tries take seconds: not to the next citizen)
            self._notify(*said)
            self.call_state = state

    def _dismiss_still_there(self) -> None:
        if self._still_there is not None:
            self._still_there.dismiss()
            self._still_there = None

    def _notify(self, message: tuple[str, dict], seconds: float) -> None:
        """A passing notice in the header, in the citizen's language (again after they switch
        it), for ``seconds`` (longer in elderly mode)."""
        self._notice = message
        self.notice = self.t(message[0], **message[1])
        self.call_state = ""  # (another notice: the button is itself again)
        if self._notice_event is not None:
            self._notice_event.cancel()
        factor = self.terminal.config.timeouts.elderly_factor if self.terminal.elderly else 1.0
        self._notice_event = Clock.schedule_once(self._notice_over, seconds * factor)

    def _notice_over(self, _dt=None) -> None:
        if self._notice_event is not None:
            self._notice_event.cancel()
        self._notice, self._notice_event, self.notice = None, None, ""
        self.call_state = ""
