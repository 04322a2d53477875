"""End: "take your ID card, social-security card and receipt", naming what this visit
read and printed (thanks for the rating when there was one); the session is wiped, then
back to the start."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty

from kiosk.i18n import listed, translate
from screens.base import KioskScreen

SECONDS = 8


class EndScreen(KioskScreen):
    seconds = NumericProperty(SECONDS)
    # what the citizen must not leave behind (Session.to_take): cards in readers, paper
    to_take = ListProperty(["id_card", "receipt"])
    rated = BooleanProperty(True)  # the citizen rated the service

    def __init__(self, terminal, nav, on_finish, **kw):
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self._event = None

    def on_pre_enter(self, *_):
        session = self.terminal.session
        if session is not None:
            self.to_take, self.rated = session.to_take(), session.rating > 0
        # an older citizen gets longer to gather cards and receipt (the timeouts' factor)
        factor = self.terminal.config.timeouts.elderly_factor if self.terminal.elderly else 1.0
        self.terminal.end("finished")  # nothing personal is left while the card is taken
        self.seconds = round(SECONDS * factor)
        self._event = Clock.schedule_interval(self._tick, 1.0)

    def _tick(self, _dt):
        self.seconds -= 1
        if self.seconds <= 0:
            self.finish()

    def finish(self):
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._on_finish()

    def on_leave(self, *_):
        super().on_leave()
        if self._event is not None:
            self._event.cancel()
            self._event = None

    @staticmethod
    def take_text(things: list[str], language: str) -> str:
        if not things:  # an electronic ID, nothing printed: nothing is left in the kiosk
            return translate("end.complete", language)
        return translate("end.take", language, items=listed([f"end.item.{t}" for t in things], language))

    def spoken(self) -> str:
        return self.take_text(self.to_take, self.terminal.language)
