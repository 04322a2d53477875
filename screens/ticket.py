"""Queue tickets (取号): choose the service, get a number for this terminal's hall
with the people ahead and the estimated wait, printed on the receipt printer.

If the printer fails the number stays on screen (it is all the citizen needs);
if the network is down the citizen is sent to the desk, calmly.
"""

from __future__ import annotations

import logging

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from kiosk.errors import DeviceError, PlatformError, PrinterError
from kiosk.receipts import QUEUE_KINDS
from screens.base import KioskScreen

log = logging.getLogger(__name__)


class TicketScreen(KioskScreen):
    taken = BooleanProperty(False)  # a ticket is on screen
    queue = StringProperty("")  # the queue's name
    number = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    printing = StringProperty("")

    def __init__(self, terminal, nav, on_finish, **kw):
        self._panels: dict = {}  # filled by on_kv_post, during super().__init__
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self.ticket = None
        self.kind = ""
        terminal.subscribe(self._on_terminal)

    def on_kv_post(self, *_):
        # ids are weak references: keep the panels alive while they are off screen
        self._panels = {
            "kinds": self.ids.kinds_panel.__self__,
            "ticket": self.ids.ticket_panel.__self__,
        }
        self.on_taken()

    def on_pre_enter(self, *_):
        self.taken, self.ticket, self.printing = False, None, ""
        self.fill_kinds()

    def fill_kinds(self):
        grid = self.ids.kinds
        grid.clear_widgets()
        for kind in QUEUE_KINDS:
            grid.add_widget(Factory.QueueButton(action=f"queue:{kind}", text=self.t(f"ticket.kind.{kind}"),
                                                on_release=lambda _w, k=kind: self.take(k)))  # fmt: skip

    def on_taken(self, *_):
        if not self._panels:
            return
        panel = self._panels["ticket" if self.taken else "kinds"]
        if panel.parent is not self.ids.body:
            self.ids.body.clear_widgets()
            self.ids.body.add_widget(panel)

    def take(self, kind: str):
        if self.busy:
            return  # one tap, one ticket
        self.run(self._take(kind))

    async def _take(self, kind: str):
        self.printing = self.t("ticket.taking")
        try:
            ticket = await self.terminal.take_ticket(kind)
        except (PlatformError, DeviceError) as err:
            log.warning("no ticket taken: %s", err.detail)
            self.printing = ""
            self.error = self.t("ticket.offline")
            return
        self.ticket, self.kind = ticket, kind
        self.show()
        self.taken = True
        self.printing = self.t("common.printing")
        try:
            await self.terminal.print_ticket(ticket, kind_name=self.t(f"ticket.kind.{kind}"))
        except (PrinterError, DeviceError) as err:
            log.warning("ticket not printed: %s", err.detail)
            self.printing = ""
            self.error = self.t("ticket.print_failed", number=ticket.number)
            return
        self.printing = self.t("ticket.printed")

    def show(self):
        t = self.ticket
        if t is None:
            return
        self.number = t.number
        self.queue = self.t(f"ticket.kind.{self.kind}")
        self.ahead = self.t("ticket.ahead", count=t.people_ahead)
        self.wait = (self.t("ticket.wait", minutes=t.estimated_wait_minutes) if t.people_ahead
                     else self.t("ticket.next"))  # fmt: skip

    def another(self):
        self.terminal.touch()
        self.error = ""
        self.taken, self.ticket, self.printing = False, None, ""

    def back(self):
        self.nav("home")

    def finish(self):
        self._on_finish()

    def _on_terminal(self, what: str):
        if what == "language" and self.manager is not None and self.manager.current == self.name:
            self.fill_kinds()
            self.show()

    def spoken(self) -> str:
        return self.t("ticket.choose")
