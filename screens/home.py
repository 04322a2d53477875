"""Home screen: greets the identified citizen and offers what can be done."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.errors import KioskError
from kiosk.i18n import translate
from kiosk.identity import mask
from kiosk.receipt import test_receipt
from kiosk.terminal import Terminal


class HomeScreen(Screen):
    citizen = StringProperty("")
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    busy = BooleanProperty(False)

    def __init__(self, terminal: Terminal, on_finish, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        self._on_finish = on_finish
        self._task: asyncio.Task | None = None

    def on_pre_enter(self, *_):
        visit = self.terminal.visit
        self.citizen = visit.display_name if visit else ""
        self.message = ""

    def on_leave(self, *_):
        if self._task and not self._task.done():
            self._task.cancel()  # a stale result must not land on the next citizen's screen
        self.citizen = self.message = ""

    def _say(self, key: str, error: bool = False, **values):
        self.message = translate(key, self.terminal.language, **values)
        self.message_is_error = error

    def _run(self, busy_key: str, coro):
        self.busy = True
        self._say(busy_key)
        self._task = asyncio.get_event_loop().create_task(self._guard(coro))

    async def _guard(self, coro):
        try:
            await coro
        except KioskError as err:
            self._say(err.message_key, error=True)
        finally:
            self.busy = False

    def read_social_card(self):
        self._run("common.reading", self._read_social_card())

    async def _read_social_card(self):
        card = await self.terminal.read_social_card()
        self._say("home.social_card_read", name=mask(card.name), number=mask(card.ss_number, 6, 4))

    def print_test(self):
        self._run("common.printing", self._print_test())

    async def _print_test(self):
        t = self.terminal
        visit = t.visit
        receipt = test_receipt(
            job_id=uuid.uuid4().hex,
            terminal_id=t.config.terminal.id,
            point_name=t.config.terminal.service_point or translate("app.title"),
            citizen_name=visit.display_name if visit else "",
            track_url=f"{t.config.platform.url}/track/TEST-{t.config.terminal.id}",
            now=dt.datetime.now(),
        )
        await t.print_receipt(receipt)
        self._say("home.printed")

    def finish(self):
        self._on_finish()
