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
from screens.form import FormScreen
from screens.home import HomeScreen
from screens.materials import MaterialsScreen
from screens.outcome import OutcomeScreen
from screens.question import QuestionScreen
from screens.rate import RateScreen
from screens.review import ReviewScreen
from screens.timeout import StillThere

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
KV_FILES = ("widgets.kv", "keyboard.kv", "attract.kv", "home.kv", "question.kv", "form.kv", "materials.kv",
            "review.kv", "outcome.kv", "rate.kv", "end.kv", "timeout.kv", "app.kv")
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
        t.subscribe(self._on_terminal)
        return root

    @property
    def screens(self):
        return self.root.ids.sm

    def show(self, name: str) -> None:
        self.screens.current = name
        if self.terminal.elderly:  # elderly mode reads each new screen aloud
            spoken = getattr(self.screens.current_screen, "spoken", lambda: "")()
            asyncio.get_event_loop().create_task(self.terminal.say(spoken))

    def on_start(self):
        self._tick(0)
        Clock.schedule_interval(self._tick, 1.0)
        # Every touch anywhere, keyboard taps included, resets the inactivity timer.
        Window.bind(on_touch_down=lambda *_: self.terminal.touch())
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
            card = await self.terminal.wait_for_card(self._stopping)
            if card is None:
                return
            self.show("home")
            self._visit_over.clear()
            removal = asyncio.ensure_future(self.terminal.end_when_card_removed(self._stopping))
            await self._visit_over.wait()
            removal.cancel()
            await self.terminal.wait_for_cards_removed(self._stopping)

    def _on_terminal(self, what: str):
        if what.startswith("error:") and self.screens.current == "attract":
            self.screens.get_screen("attract").problem = self.t(what.removeprefix("error:"))
        elif what == "warning":
            limits = self.terminal.limits()
            seconds = limits.elderly_warning if self.terminal.elderly else limits.warning
            self._still_there = StillThere(on_continue=self.terminal.touch, seconds=int(seconds))
            self._still_there.open()
        elif what == "resumed" and self._still_there is not None:
            self._still_there.dismiss()
            self._still_there = None
        elif what == "ended":
            if self._still_there is not None:
                self._still_there.dismiss()
                self._still_there = None
            self._visit_over.set()
            if self.screens.current not in ("attract", "end"):
                self.show("attract")  # a timeout: the form, scans and faces are already gone

    # -- intents from the chrome ------------------------------------------
    def start_without_card(self):
        self.terminal.begin(None)
        self.show("home")
        self._visit_over.set()  # no card visit: the watcher keeps polling

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
