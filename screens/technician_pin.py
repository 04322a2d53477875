"""The technician's PIN pad, reached by the corner gesture on the header (kiosk.technician).

The digits typed are never drawn, only how many there are. Five wrong PINs lock the
pad for five minutes and ask the hall for help (the dashboard shows "technician PIN
failures" for this terminal). Back, or a while without a touch, returns to where the
gesture was made (the attract screen when no visit is open).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.technician import (
    HELP_SCREEN,
    PIN_LENGTHS,
    CornerGesture,
    Idle,
    PinLock,
    stored_pin,
    verify_pin,
)
from screens.base import KioskScreen

log = logging.getLogger(__name__)


class CornerWatch:
    """Feeds every finished touch to the corner gesture (kiosk.technician.CornerGesture):
    a corner zone is the header's full height and up to 160 dp of its width at either
    end; a touch that began and ended in different places, moved more than 24 dp, or
    came with a second finger down is no tap. ``on_gesture()`` when it is complete."""

    def __init__(self, header, on_gesture):
        self.header = header  # () -> the header widget
        self.on_gesture = on_gesture
        self.gesture = CornerGesture(max_travel=dp(24))
        self._down: dict = {}

    def start(self) -> None:
        Window.bind(on_touch_down=self._pressed, on_touch_up=self._released)

    def zone(self, x: float, y: float) -> str | None:
        header = self.header()
        left, bottom = header.to_window(header.x, header.y)
        if not bottom <= y <= bottom + header.height:
            return None
        reach = min(dp(160), header.width * 0.2)
        if left <= x <= left + reach:
            return "left"
        if left + header.width - reach <= x <= left + header.width:
            return "right"
        return None

    def _pressed(self, _window, touch):
        # times as the input device stamped them, so a slow frame does not make a tap long
        self._down[touch.uid] = (
            self.zone(*touch.pos),
            touch.time_start,
            touch.pos,
            bool(self._down),
        )

    def _released(self, _window, touch):
        down = self._down.pop(touch.uid, None)
        if down is None:
            return
        zone, at, (x0, y0), crowded = down
        if crowded or self._down or self.zone(*touch.pos) != zone:
            zone = None
        travel = math.hypot(touch.pos[0] - x0, touch.pos[1] - y0)
        up = touch.time_end if touch.time_end > 0 else time.time()
        if self.gesture.tap(zone, at, up, travel):
            self.on_gesture()


class IdleWatch:
    """Back to the attract screen when the technician walks away: every touch counts as
    activity; ``idle.hold`` while the kiosk itself works (the self-test)."""

    def __init__(self, terminal, on_expired):
        self.terminal = terminal
        self.on_expired = on_expired
        self.idle: Idle | None = None
        self._tick = None

    def start(self) -> None:
        t = self.terminal.config.timeouts
        self.idle = Idle(t.inactivity + t.warning)  # when a citizen's visit would be wiped
        Window.bind(on_touch_down=self._touched)
        self._tick = Clock.schedule_interval(self._check, 1.0)

    def stop(self) -> None:
        Window.unbind(on_touch_down=self._touched)
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _touched(self, *_):
        if self.idle is not None:
            self.idle.touch(time.monotonic())

    def hold(self, held: bool) -> None:
        """While held (the kiosk works), no time-out; released, the clock starts again."""
        if self.idle is not None:
            self.idle.hold = held
            self.idle.touch(time.monotonic())

    def _check(self, _dt):
        if self.idle is not None and self.idle.expired(time.monotonic()):
            self.stop()
            self.on_expired()


class TechnicianPinScreen(KioskScreen):
    typed = NumericProperty(0)  # how many digits are typed (never which)
    message = StringProperty("")

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        # kept in the data dir: neither leaving the pad nor a power cycle resets it
        self.lock = PinLock.kept_in(terminal.base_config.data_dir)
        self.back_to = "attract"
        self._pin = ""  # a plain attribute: never bound to a widget
        self._told = False  # the hall heard of the last lock-out
        self._said: tuple[str, dict, str] = ("", {}, "")  # the error shown: key, values, text
        self._watch = IdleWatch(terminal, self.back)

    def on_kv_post(self, *_):
        pad = self.ids.pad
        for ch in "123456789":
            pad.add_widget(self._key("DigitKey", f"key:{ch}", ch))
        pad.add_widget(self._key("KeyClear"))
        pad.add_widget(self._key("DigitKey", "key:0", "0"))
        pad.add_widget(self._key("KeyBackspace"))

    def _key(self, cls: str, action: str = "", text: str = ""):
        key = getattr(Factory, cls)()
        if action:
            key.action, key.text = action, text
        key.size_hint_x = 1
        key.bind(on_release=lambda button: self.press(button.action))
        return key

    def on_pre_enter(self, *_):
        self._set("")
        self.error = ""
        self.message = self.t("technician.pin_prompt")
        self._locked_message()
        self._watch.start()

    def on_leave(self, *_):
        super().on_leave()
        self._watch.stop()
        self._set("")

    def wipe(self) -> None:
        super().wipe()
        self._set("")

    def _set(self, pin: str) -> None:
        self._pin = pin
        self.typed = len(pin)

    def press(self, action: str) -> None:
        """A key of the pad: ``key:0``..``key:9``, ``key:backspace``, ``key:clear``."""
        key = action.removeprefix("key:")
        if key == "backspace":
            self._set(self._pin[:-1])
        elif key == "clear":
            self._set("")
        elif key.isdigit() and len(self._pin) < PIN_LENGTHS[1]:
            self._set(self._pin + key)
        self.error = ""

    def confirm(self) -> None:
        if self.busy or self._locked_message():
            return
        pin = self._pin
        self._set("")
        self.run(self._check(pin))

    def _locked_message(self) -> bool:
        left = self.lock.locked_for(time.monotonic())
        if left:
            key = "technician.pin_locked_told" if self._told else "technician.pin_locked"
            self._say(key, minutes=math.ceil(left / 60))
        return bool(left)

    async def _check(self, pin: str) -> None:
        stored = await asyncio.to_thread(stored_pin, self.terminal.base_config)
        if not stored:
            self._say("technician.no_pin")
            return
        ok = await asyncio.to_thread(verify_pin, pin, stored)
        attempt = self.lock.record(ok, time.monotonic())
        if attempt.ok:
            log.info("technician signed in")
            self.terminal.begin_service()  # the citizen's visit, if any, ends and is wiped
            self.nav("technician")
            return
        if not attempt.just_locked:
            self._say("technician.pin_wrong", tries=attempt.tries_left)
            return
        self._told = False
        self._locked_message()
        log.warning("technician PIN: %d wrong tries, pad locked for %d s", self.lock.max_tries,
                    int(self.lock.lock_seconds))  # fmt: skip
        try:  # the hall hears of it (a help request: this terminal, nothing personal)
            await self.terminal.call_staff(HELP_SCREEN)
            self._told = True
            self._locked_message()
        except KioskError as err:
            log.warning("PIN lock-out not reported to the hall: %s", err.detail)

    def back(self) -> None:
        self.nav(self.back_to if self.terminal.session is not None else "attract")

    def _say(self, key: str, **values) -> None:
        """Tell what happened to the PIN, kept as a key so a change of language re-tells it."""
        self.error = self.t(key, **values)
        self._said = (key, values, self.error)

    def relanguage(self) -> None:
        self.message = self.t("technician.pin_prompt")
        key, values, text = self._said
        if key and self.error == text:
            self._say(key, **values)
