"""What every journey screen shares: the terminal, navigation, translation,
and one way to run the core's async work without blocking a frame."""

from __future__ import annotations

import asyncio
import logging

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.errors import KioskError
from kiosk.i18n import message_for, translate

log = logging.getLogger(__name__)


class KioskScreen(Screen):
    error = StringProperty("")  # a calm message for the citizen, '' when all is well
    busy = BooleanProperty(False)

    def __init__(self, terminal, nav, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        self.nav = nav  # nav(screen_name): the app switches screens
        self._task: asyncio.Task | None = None
        self._failure: Exception | None = None  # what ``error`` tells, to tell it again

    def t(self, key: str, **values) -> str:
        return translate(key, self.terminal.language, **values)

    def relanguage(self) -> None:
        """The citizen switched language on this screen: what it built in Python (tiles,
        options, form rows) made again in the new one. Its .kv texts follow
        ``app.language`` by themselves; the app calls this for the screen on show."""

    @property
    def journey(self):
        return self.terminal.journey

    def run(self, coro) -> None:
        """Run core work on the loop; a KioskError becomes a message, never a traceback."""
        self.busy = True
        self.error = ""
        self._task = asyncio.get_event_loop().create_task(self._guard(coro))

    async def _guard(self, coro):
        self._failure = None
        try:
            await coro
        except KioskError as err:
            log.warning("%s: %s", self.name, err.detail)
            self._failed(err)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # never a frozen screen: log for the technician, tell the citizen
            log.exception("%s failed", self.name)
            self._failed(err)
        finally:
            self.busy = False

    def _failed(self, err: Exception) -> None:
        self._failure = err
        self.retell_error()
        self.on_failure()

    def on_failure(self) -> None:
        """Work given to ``run`` failed and ``error`` says so (a screen may tidy up)."""

    def retell_error(self) -> None:
        """``error`` in the citizen's language of now (after they switch it)."""
        failure = self._failure
        if failure is None:
            return
        self.error = (message_for(failure, self.terminal.language)
                      if isinstance(failure, KioskError) else self.t("error.generic"))  # fmt: skip

    async def drawn(self, timeout: float = 0.1) -> None:
        """Until the window has drawn what just changed on it (its next flip), or
        ``timeout`` seconds. Heavy work started after this does not share the cores with
        the frame that tells the citizen it has begun (software GL draws on the CPU)."""
        from kivy.core.window import Window

        shown = asyncio.get_running_loop().create_future()

        def flipped(*_):
            if not shown.done():
                shown.set_result(None)

        Window.bind(on_flip=flipped)
        try:
            await asyncio.wait([shown], timeout=timeout)
        finally:
            Window.unbind(on_flip=flipped)

    def warm(self) -> None:
        """Before anyone comes: put up what the screen shows every visitor alike, so
        that its first showing draws it rather than builds it (the app lays the screen
        out at the window's size just after)."""

    def spoken(self) -> str:
        """What elderly mode reads aloud when this screen appears ('' for nothing)."""
        return ""

    def wipe(self) -> None:
        """The visit is over: drop whatever of it this screen still holds (names,
        typed values, scans, numbers), so nothing of one citizen stays in memory
        or on a widget for the next. Screens that show personal data add to it."""
        self.error = ""
        self._failure = None

    def on_leave(self, *_):
        if self._task and not self._task.done():
            self._task.cancel()  # a stale result must not land on the next screen
        self.error = ""


class CameraScreen(KioskScreen):
    """A screen over a live camera picture (the face check, a document's pages): a loop
    that looks, and one message at a time, kept as a key (or a KioskError) so that it
    follows a change of language. Its .kv has the picture as ``ids.preview``."""

    phase = StringProperty("looking")
    guidance = StringProperty("")

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self._loop: asyncio.Task | None = None
        self._message: tuple = ("", {})  # (key, values) or (KioskError,): shown now

    def relanguage(self) -> None:
        self.retitle()
        self._render()

    def retitle(self) -> None:
        """The screen's own texts in the citizen's language (after they switch it)."""

    def _show(self, phase: str, key, **values) -> None:
        """Show a message (a key, or a KioskError) in the citizen's language."""
        self.phase = phase
        self._message = (key,) if isinstance(key, KioskError) else (key, values)
        self._render()

    def _render(self) -> None:
        if isinstance(self._message[0], KioskError):
            self.guidance = message_for(self._message[0], self.terminal.language)
        else:
            key, values = self._message
            self.guidance = self.t(key, **values) if key else ""

    def _guide(self, key: str) -> bool:
        """Live guidance while looking; True when it changed."""
        if (self.phase, self._message) == ("looking", (key, {})):
            return False
        self._show("looking", key)
        return True

    def _fault(self, why) -> None:
        self._show("fault", why)
        self.ids.preview.clear()

    def _begin(self, looking) -> None:
        """Start looking (``looking``: the loop's coroutine), after any loop before it."""
        self._stop_loop()
        self.error = ""
        self._loop = asyncio.get_event_loop().create_task(looking)

    def _stop_loop(self) -> None:
        if self._loop is not None and not self._loop.done():
            self._loop.cancel()
        self._loop = None

    def on_leave(self, *_):
        super().on_leave()
        self._stop_loop()
        self.ids.preview.clear()  # nothing of the picture stays in memory or on screen
