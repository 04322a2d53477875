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
