"""Queue tickets (取号): choose the service, get a number for this terminal's hall
with the people ahead and the estimated wait, printed on the receipt printer.

If the printer fails the number stays on screen (it is all the citizen needs);
if the network is down the citizen is sent to the desk, calmly.
"""

from __future__ import annotations

import datetime as dt
import logging

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from kiosk.errors import DeviceError, PlatformError, PlatformRejected, PrinterError
from kiosk.hours import hours_text, parse_hours, when_words
from kiosk.receipts import QUEUE_KINDS
from screens.base import KioskScreen
from screens.widgets import even_rows

log = logging.getLogger(__name__)


class TicketScreen(KioskScreen):
    taken = BooleanProperty(False)  # a ticket is on screen
    queue = StringProperty("")  # the queue's name
    number = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    printing = StringProperty("")
    hours = StringProperty("")  # when the hall's windows call tickets, "" for any time

    def __init__(self, terminal, nav, on_finish, **kw):
        self._panels: dict = {}  # filled by on_kv_post, during super().__init__
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self.ticket = None
        self.kind = ""
        self._shut: PlatformRejected | None = None  # the platform said the windows are shut

    def on_kv_post(self, *_):
        # ids are weak references: keep the panels alive while they are off screen
        self._panels = {
            "kinds": self.ids.kinds_panel.__self__,
            "ticket": self.ids.ticket_panel.__self__,
        }
        self.on_taken()

    def on_pre_enter(self, *_):
        self.taken, self.ticket, self.printing, self._shut = False, None, "", None
        self.fill_kinds()

    def fill_kinds(self):
        self._fill_kinds()
        point = self.terminal.service_point()
        self.hours = (self.t("ticket.hours", hours=hours_text(parse_hours(point.hours)))
                      if point is not None and point.hours else "")  # fmt: skip

    def _closed(self, err: PlatformRejected) -> str:
        """What to say when the windows are shut: when tickets are given again (the
        platform's clock and calendar decide, and say when), and that the kiosk is open."""
        try:
            opens = dt.datetime.fromisoformat(err.details[0])
        except (IndexError, ValueError):
            return self.t("ticket.closed_now")
        return self.t("ticket.closed", when=when_words(opens, self.terminal.language))

    def _fill_kinds(self):
        grid = self.ids.kinds
        grid.clear_widgets()
        buttons = [Factory.QueueButton(action=f"queue:{kind}", text=self.t(f"ticket.kind.{kind}"),
                                       on_release=lambda _w, k=kind: self.take(k))
                   for kind in QUEUE_KINDS]  # fmt: skip
        for b in buttons:
            grid.add_widget(b)
        even_rows(grid, buttons)  # one height, the tallest's

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
            if isinstance(err, PlatformRejected) and err.message_key == "ticket.closed":
                self._shut = err  # (said again in another language, should they switch)
                self.error = self._closed(err)
            else:
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

    def relanguage(self) -> None:
        self.fill_kinds()
        self.show()
        if self._shut is not None and self.error:
            self.error = self._closed(self._shut)

    def spoken(self) -> str:
        return self.t("ticket.choose")
