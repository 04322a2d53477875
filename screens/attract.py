"""Attract screen: invites a card or a touch, cycles the hall's notices."""

from __future__ import annotations

import math

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import notice_in

NOTICE_SECONDS = 8.0


class CardPicture(Widget):
    """Drawn in units of ``k`` (its height / 300) so it fits both orientations."""

    k = NumericProperty(1.0)
    room = BooleanProperty(True)  # whether the screen has room for it (attract.kv)

    def on_height(self, _w, height):
        self.k = height / 300.0


class AttractScreen(Screen):
    notice = StringProperty("")
    problem = StringProperty("")  # a card problem, shown until the next card
    info = StringProperty("")  # what the kiosk is doing (checking an electronic ID)
    # a card stays in a reader from the last visit (Terminal.cards_left): staff are coming
    card_left = BooleanProperty(False)
    bob = NumericProperty(0.0)  # the card picture's gentle motion

    def __init__(self, notices: list[str], on_start, **kw):
        super().__init__(**kw)
        self._notices = notices or [""]
        self._on_start = on_start
        self._index = 0
        self._animation = self._turn = None  # Clock events while the screen is shown

    def on_enter(self, *_):
        self._animation = Clock.schedule_interval(self._animate, 1 / 30)
        self.restart_notices()

    def restart_notices(self) -> None:
        """The notices from the first, each for its full time (on entering, and when the
        citizen switches language: they read the first one whole in their language)."""
        if self._turn is not None:
            self._turn.cancel()
        self._index = 0
        self.notice = self._notices[0]
        self._turn = Clock.schedule_interval(self._next_notice, NOTICE_SECONDS)

    def on_leave(self, *_):
        for ev in (self._animation, self._turn):
            if ev is not None:
                ev.cancel()
        self._animation = self._turn = None
        self.problem = ""
        self.info = ""

    @staticmethod
    def shown(notice: str, language: str) -> str:
        """The notice in the citizen's language (the hall may have written only Chinese)."""
        return notice_in(notice, language)

    def _next_notice(self, _dt):
        self._index = (self._index + 1) % len(self._notices)
        self.notice = self._notices[self._index]

    def _animate(self, _dt):
        self.bob = 12 * math.sin(Clock.get_time() * 2.0)

    def start(self):
        self._on_start()
