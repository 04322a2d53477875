"""End: "take your ID card, social-security card and receipt", naming what this visit
read and printed (thanks for the rating when there was one); the session is wiped, then
back to the start.

A card still in its reader holds the goodbye: once the countdown has run (or "done" is
touched) the screen says which card is still there, aloud too every REMIND_EVERY seconds,
and goes back to the start the moment it is taken. Once the
terminal's watch of the readers calls the card forgotten (``timeouts.card_left`` after the
visit) it gives up: the hall is told to collect it (a help request naming this terminal)
and the attract screen tells the next citizen."""

from __future__ import annotations

import asyncio
import time

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty

from kiosk.i18n import listed, translate
from screens.base import KioskScreen

SECONDS = 8
REMIND_EVERY = 10  # seconds between spoken reminders of a card still in its reader
LOOK_WAIT = 3  # seconds the goodbye waits, at most, for the readers to be looked at


class EndScreen(KioskScreen):
    seconds = NumericProperty(SECONDS)
    # what the citizen must not leave behind (Session.to_take): cards in readers, paper
    to_take = ListProperty(["id_card", "receipt"])
    rated = BooleanProperty(True)  # the citizen rated the service
    # the cards still in their readers once the countdown has run: the screen asks for them
    left = ListProperty([])

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
        self.left = []
        self._held = 0  # seconds a card has stayed since the countdown ran out
        self._entered = time.monotonic()
        self._event = Clock.schedule_interval(self._tick, 1.0)

    def _looked(self) -> bool:
        """Whether the readers were looked at since the goodbye began (a card read in this
        visit: the watch of the readers starts as it ends), so ``cards_left`` is news;
        after LOOK_WAIT seconds the answer is taken as it is."""
        carded = {"id_card", "social_card"} & set(self.to_take)
        return (not carded or self.terminal.cards_checked_at >= self._entered
                or time.monotonic() - self._entered >= LOOK_WAIT)  # fmt: skip

    def _card_held(self) -> bool:
        """A card is still in its reader, and not yet given up as forgotten."""
        return bool(self.terminal.cards_left) and not self.terminal.card_forgotten

    def _tick(self, _dt):
        if self.seconds > 0:
            self.seconds -= 1
        if self.seconds > 0 or not self._looked():
            return
        if not self._card_held():
            self.finish()  # taken; or forgotten (the hall is told): the next citizen's turn
            return
        if self._held % REMIND_EVERY == 0:
            self._remind()
        self._held += 1

    def done(self):
        """The button: goodbye, unless a card is still in its reader (then: take it), or the
        readers were not yet looked at (then the next tick tells)."""
        if self._event is None or (self._looked() and not self._card_held()):
            self.finish()
            return
        self.seconds = 0
        if self._looked() and not self.left:  # asked for now; the next tick does not repeat it
            self._remind()
            self._held = max(self._held, 1)

    def cards_changed(self) -> None:
        """The terminal's watch of the readers says a card came, went or is forgotten."""
        if self._event is None:
            return
        if self.terminal.card_forgotten or (self.left and not self.terminal.cards_left):
            self.finish()  # taken while asked for: goodbye at once; forgotten: staff will come
        elif self.left:
            self.left = list(self.terminal.cards_left)

    def _remind(self) -> None:
        self.left = list(self.terminal.cards_left)
        # aloud for everyone, not only in elderly mode: they may be walking away
        asyncio.get_event_loop().create_task(self.terminal.say(self.spoken(), always=True))

    def finish(self):
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.left = []
        self._on_finish()

    def on_leave(self, *_):
        super().on_leave()
        if self._event is not None:
            self._event.cancel()
            self._event = None

    @staticmethod
    def take_text(things: list[str], language: str, left: list[str] = ()) -> str:
        if left:  # the countdown ran and a card is still in its reader
            return translate("end.still_there", language,
                             items=listed([f"end.item.{t}" for t in left], language))  # fmt: skip
        if not things:  # an electronic ID, nothing printed: nothing is left in the kiosk
            return translate("end.complete", language)
        return translate("end.take", language, items=listed([f"end.item.{t}" for t in things], language))

    def spoken(self) -> str:
        return self.take_text(self.to_take, self.terminal.language, self.left)
