"""The Kivy application: page chrome, the screen manager, and the card watcher.

Screens get the small things they need (the terminal service, callbacks);
business rules stay in the core.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition

from kiosk.i18n import LANGUAGES, translate
from kiosk.terminal import Terminal
from screens.attract import AttractScreen
from screens.home import HomeScreen
from screens import widgets  # noqa: F401 - registers BigButton and Tile with the Factory

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
KV_FILES = ("widgets.kv", "attract.kv", "home.kv", "app.kv")
ELDERLY_SCALE = 1.3


class KioskApp(App):
    language = StringProperty("zh")
    scale = NumericProperty(1.0)
    clock_text = StringProperty("")
    point_name = StringProperty("")

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

    # -- translation, for .kv bindings: ``app.t(key, app.language)`` -----
    def t(self, key: str, _language: str | None = None, **values) -> str:
        return translate(key, self.language, **values)

    def build(self):
        self.title = translate("app.title")
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        root = Builder.load_string("KioskRoot:\n")
        sm = root.ids.sm
        sm.transition = NoTransition()  # FBO fades cost 150+ ms a switch on software GL
        sm.add_widget(AttractScreen(self.notices, on_start=self.start_without_card, name="attract"))
        sm.add_widget(HomeScreen(self.terminal, on_finish=self.finish, name="home"))
        self.terminal.subscribe(self._on_terminal)
        return root

    @property
    def screens(self):
        return self.root.ids.sm

    def on_start(self):
        self._tick(0)
        Clock.schedule_interval(self._tick, 1.0)
        self._watcher = asyncio.get_event_loop().create_task(self._watch_cards())

    def on_stop(self):
        self._stopping.set()
        if self._watcher:
            self._watcher.cancel()

    def _tick(self, _dt):
        self.clock_text = dt.datetime.now().strftime("%Y-%m-%d %H:%M")

    # -- the card watcher: attract → identified → (visit) → card removed ----
    async def _watch_cards(self):
        while not self._stopping.is_set():
            card = await self.terminal.wait_for_id_card(self._stopping)
            if card is None:
                return
            self.screens.current = "home"
            self._visit_over.clear()
            await self._visit_over.wait()
            await self.terminal.wait_for_id_card_removed(self._stopping)

    def _on_terminal(self, what: str):
        if what.startswith("error:") and self.screens.current == "attract":
            self.screens.get_screen("attract").problem = self.t(what.removeprefix("error:"))
        elif what == "ended":
            self._visit_over.set()

    # -- intents from the chrome ------------------------------------------
    def start_without_card(self):
        self.screens.current = "home"
        self._visit_over.set()  # no card visit: the watcher keeps polling

    def finish(self):
        self.terminal.end()
        self.screens.current = "attract"

    def toggle_language(self):
        i = LANGUAGES.index(self.language)
        self.language = LANGUAGES[(i + 1) % len(LANGUAGES)]
        self.terminal.set_language(self.language)

    def toggle_elderly(self):
        self.terminal.toggle_elderly()
        self.scale = ELDERLY_SCALE if self.terminal.elderly else 1.0

    def call_staff(self):
        log.info("call staff requested on screen %s", self.screens.current)
