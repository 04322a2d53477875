"""The Kivy application: page chrome, the screen manager, the card watcher,
the inactivity countdown. Screens get the small things they need (the
terminal service, a navigator); business rules stay in the core."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition

from kiosk.config import china_time
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGES, translate
from kiosk.session import TimeoutStatus
from kiosk.terminal import Terminal
from screens import widgets  # noqa: F401 - registers BigButton and Tile with the Factory
from screens.attract import AttractScreen
from screens.end import EndScreen
from screens.face import FaceScreen
from screens.form import FormScreen
from screens.guide import GuideScreen
from screens.home import HomeScreen
from screens.materials import MaterialsScreen
from screens.outcome import OutcomeScreen
from screens.progress import ProgressScreen
from screens.question import QuestionScreen
from screens.rate import RateScreen
from screens.review import ReviewScreen
from screens.search import SearchScreen
from screens.technician import TechnicianScreen
from screens.technician_pin import CornerWatch, TechnicianPinScreen
from screens.ticket import TicketScreen
from screens.timeout import StillThere

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
KV_FILES = ("widgets.kv", "keyboard.kv", "attract.kv", "home.kv", "question.kv", "form.kv", "materials.kv",
            "review.kv", "outcome.kv", "rate.kv", "end.kv", "timeout.kv", "face.kv",
            "search.kv", "guide.kv", "progress.kv", "ticket.kv", "technician_pin.kv", "technician.kv",
            "app.kv")
ELDERLY_SCALE = 1.3


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
        self.app.notice = self.app.t("error.generic")
        return ExceptionManager.PASS


class KioskApp(App):
    language = StringProperty("zh")
    scale = NumericProperty(1.0)
    clock_text = StringProperty("")
    point_name = StringProperty("")
    notice = StringProperty("")
    portrait = BooleanProperty(True)  # the screen's orientation, for layouts that differ  # a passing message in the footer (e.g. staff called)

    def __init__(self, terminal: Terminal, notices: list[str], point_name: str, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        self.notices = notices
        self.point_name = point_name
        self.language = terminal.language
        self.scale = ELDERLY_SCALE if terminal.elderly else 1.0
        self._stopping = asyncio.Event()
        self._watcher: asyncio.Task | None = None
        self._visit_over = asyncio.Event()
        self._still_there: StillThere | None = None

    # -- translation, for .kv bindings: ``app.t(key, app.language)`` -----
    def t(self, key: str, _language: str | None = None, **values) -> str:
        return translate(key, self.language, **values)

    def build(self):
        ExceptionManager.add_handler(KeepRunning(self))
        self.portrait = Window.height >= Window.width
        self.title = translate("app.title")
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        root = Builder.load_string("KioskRoot:\n")
        sm = root.ids.sm
        sm.transition = NoTransition()  # FBO fades cost 150+ ms a switch on software GL
        t, nav = self.terminal, self.show
        sm.add_widget(AttractScreen(self.notices, on_start=self.start_without_card, name="attract"))
        sm.add_widget(HomeScreen(t, nav, on_finish=self.finish, name="home"))
        sm.add_widget(QuestionScreen(t, nav, name="question"))
        sm.add_widget(FormScreen(t, nav, name="form"))
        sm.add_widget(MaterialsScreen(t, nav, name="materials"))
        sm.add_widget(ReviewScreen(t, nav, name="review"))
        sm.add_widget(OutcomeScreen(t, nav, name="outcome"))
        sm.add_widget(RateScreen(t, nav, name="rate"))
        sm.add_widget(EndScreen(t, nav, on_finish=self.finish, name="end"))
        sm.add_widget(FaceScreen(t, nav, name="face"))
        sm.add_widget(SearchScreen(t, nav, name="search"))
        sm.add_widget(GuideScreen(t, nav, name="guide"))
        sm.add_widget(ProgressScreen(t, nav, on_finish=self.finish, name="progress"))
        sm.add_widget(TicketScreen(t, nav, on_finish=self.finish, name="ticket"))
        sm.add_widget(TechnicianPinScreen(t, nav, name="technician_pin"))
        sm.add_widget(TechnicianScreen(t, nav, name="technician"))
        t.subscribe(self._on_terminal)
        return root

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
        # the technician's gesture on the header's corners (held here: Kivy binds weakly)
        self._corners = CornerWatch(lambda: self.root.ids.header, self.open_technician)
        self._corners.start()
        self._watcher = asyncio.get_event_loop().create_task(self._watch_cards())

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
        while not self._stopping.is_set():
            # An electronic ID QR is taken where the citizen is asked to identify.
            card = await self.terminal.wait_for_card(
                self._stopping, codes=lambda: self.screens.current in ("attract", "home"))
            if card is None:
                return
            if self.screens.current == "home":  # a card-less visit has just been identified
                home = self.screens.get_screen("home")
                home.error = ""
                home.on_pre_enter()
            self.show("home")
            self._visit_over.clear()
            removal = asyncio.ensure_future(self.terminal.end_when_card_removed(self._stopping))
            await self._visit_over.wait()
            removal.cancel()
            await self.terminal.wait_for_cards_removed(self._stopping)

    def _on_terminal(self, what: str):
        if what.startswith("error:") and self.screens.current in ("attract", "home"):
            self._identify_note(self.t(what.removeprefix("error:")), problem=True)
        elif what == "eid:verifying" and self.screens.current in ("attract", "home"):
            self._identify_note(self.t("eid.verifying"), problem=False)
        elif what == "warning":
            limits = self.terminal.limits()
            seconds = limits.elderly_warning if self.terminal.elderly else limits.warning
            self._still_there = StillThere(on_continue=self.terminal.touch, seconds=int(seconds))
            self._still_there.open()
        elif what == "resumed" and self._still_there is not None:
            self._still_there.dismiss()
            self._still_there = None
        elif what == "catalog":  # a new catalog from the platform: tiles are drawn anew
            self.screens.get_screen("home").catalog_changed()
        elif what == "ended":
            for screen in self.screens.screens:
                if hasattr(screen, "wipe"):
                    screen.wipe()  # nothing of this citizen stays on a widget
            if self._still_there is not None:
                self._still_there.dismiss()
                self._still_there = None
            self._visit_over.set()
            if self.screens.current not in ("attract", "end"):
                self.show("attract")  # a timeout: the form, scans and faces are already gone

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
        if self.terminal.session is not None:
            self.terminal.end()
        self.show("attract")

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
        try:
            await self.terminal.call_staff(screen)
            self.notice = self.t("staff.called")
        except KioskError as err:
            log.warning("help request not delivered: %s", err.detail)
            self.notice = self.t("staff.call_failed")
        Clock.schedule_once(lambda _dt: setattr(self, "notice", ""), 20)
