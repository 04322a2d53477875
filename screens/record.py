"""Social-insurance contribution record (社保缴费记录 自助打印): the citizen's record,
asked for by the card read in this visit, shown month by month (a page at a time in
elderly mode) and printed on the receipt printer. Paper out is said plainly, with
"print again"; the record goes with the visit (``wipe``). The rules are the core's
(Terminal.social_insurance_record / print_record, kiosk.records).
"""

from __future__ import annotations

from kivy.core.window import Window
from kivy.properties import BooleanProperty, ListProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.errors import PrinterError
from kiosk.identity import id_number_of
from kiosk.records import ContributionRecord, masked_id
from screens.base import KioskScreen
from screens.widgets import PagedRows


class RecordLine(BoxLayout):
    """One line of the table: the column names, a year, a month, or the total."""

    cells = ListProperty([])
    kind = OptionProperty("month", options=("head", "year", "month", "total"))
    paid = BooleanProperty(True)


class RecordScreen(PagedRows, KioskScreen):
    elderly_rows = (8, 4)  # lines of the table a page in elderly mode before it is measured
    ready = BooleanProperty(False)  # a record is on screen: it can be printed
    failed = BooleanProperty(False)  # printing failed: "print again" (the kept job, in full)
    who = StringProperty("")
    period = StringProperty("")
    notice = StringProperty("")  # the platform's word that this is sample data
    message = StringProperty("")  # what is happening (not an error)
    head = ListProperty([])
    total = ListProperty([])

    def __init__(self, terminal, nav, on_finish, **kw):
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self.record: ContributionRecord | None = None
        self._message_key = ""  # ``message`` as a key, told again in another language
        terminal.subscribe(self._on_terminal)

    def on_kv_post(self, *_):
        self.watch_list()
        if Window.width > Window.height:  # landscape: what is happening, beside the buttons
            note, buttons = self.ids.note, self.ids.buttons
            note.parent.remove_widget(note)
            note.size_hint_x = 2.2
            buttons.add_widget(note, index=len(buttons.children))
            # and the page buttons under the notice, where the left column has room: under
            # the table they took two of its lines in large type
            pager = self.ids.pager
            pager.parent.remove_widget(pager)
            self.ids.about.add_widget(pager)

    def on_pre_enter(self, *_):
        self.wipe()
        self.page = 0
        self.fill()
        self._say("record.looking")
        self.run(self._load())

    async def _load(self):
        self.record = await self.terminal.social_insurance_record()
        self._say("" if self.record.months else "record.none")
        self.ready = True
        self.fill()

    def fill(self):
        """The record's texts and table in the citizen's language (again, when they switch)."""
        lang = self.terminal.language
        self.head = [
            self.t(f"record.col.{c}") for c in ("month", "base", "employer", "personal", "state")
        ]
        record, session = self.record, self.terminal.session
        card = session.card if session is not None else None
        if record is None or card is None:
            self.who = self.period = self.notice = ""
            self.total, self._rows = [], []
            self.paginate()
            return
        self.who = self.t("record.who", name=card.name, number=masked_id(id_number_of(card)))
        first, last = record.period()
        period = (
            self.t("record.period", first=first, last=last, months=len(record.months))
            if first
            else ""
        )
        if record.employer:
            period = "\n".join(
                x for x in (period, self.t("record.employer", employer=record.employer)) if x
            )
        self.period = period
        self.notice = record.notice(lang) if record.sample else ""
        rows = []
        for year, months in record.by_year():
            rows.append(RecordLine(kind="year", cells=[self.t("record.year", year=year)]))
            for m in months:
                line = RecordLine(kind="month", paid=m.paid, cells=[
                    self.t(f"record.month.{m.month.month}"), f"{m.base:.2f}", f"{m.employer:.2f}", f"{m.personal:.2f}",
                    self.t("record.paid" if m.paid else "record.unpaid")])  # fmt: skip
                line.year = year  # a page that begins in the middle of a year names it (show_page)
                rows.append(line)
        self.total = [self.t("record.total"), "", f"{record.employer_total:.2f}",
                      f"{record.personal_total:.2f}", ""]  # fmt: skip
        self._rows = rows
        self.paginate()

    def heads(self, row) -> bool:
        return row.kind == "year"  # a year goes with the months it heads

    def show_page(self):
        super().show_page()
        # a page that begins in the middle of a year (large type, page 2) has no year line
        # of its own: the month column's name says the year ("2026年" over 6月, 7月…)
        page = self._pages[self.page] if self._pages else []
        first = page[0] if page else None
        month = self.t("record.col.month")
        named = self.t("record.year", year=first.year) if first is not None and first.kind == "month" else month
        if self.head:
            self.head = [named, *self.head[1:]]

    # -- printing --------------------------------------------------------------------
    def print_record(self):
        if self.busy or self.record is None:
            return  # one tap, one slip
        self.terminal.touch()
        self._say("common.printing")
        self.run(self._print(again=self.failed))

    async def _print(self, again: bool):
        try:
            await self.terminal.print_record(self.record, again=again)
        except PrinterError:
            self.failed = True  # paper out or a fault: said, and "print again" offered
            raise
        self.failed = False
        self._say("record.printed")

    def on_failure(self) -> None:
        self._say("")  # the error says what happened

    def _say(self, key: str) -> None:
        self._message_key = key
        self.message = self.t(key) if key else ""

    # -- leaving ----------------------------------------------------------------------
    def wipe(self) -> None:
        """The record, the citizen's name and number leave with the visit."""
        super().wipe()
        self.record = None
        self.ready = self.failed = False
        self.who = self.period = self.notice = ""
        self.total = []
        self._say("")
        self.forget_rows()

    def on_leave(self, *_):
        super().on_leave()
        self.wipe()  # back on the home screen, the record is no longer on any widget

    def back(self):
        self.nav("home")

    def finish(self):
        self._on_finish()

    def _on_terminal(self, what: str):
        if (
            what not in ("language", "elderly")
            or self.manager is None
            or self.manager.current != self.name
        ):
            return
        if what == "elderly":
            self.page = 0
        self.fill()
        self.message = self.t(self._message_key) if self._message_key else ""
        self.retell_error()

    def spoken(self) -> str:
        return self.t("record.title")
