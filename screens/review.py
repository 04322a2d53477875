"""Check your answers: everything on one page grouped by topic, each with
"change"; the delivery choice; then one submission."""

from __future__ import annotations

import time

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import long_date, translate_days
from kiosk.materials import MaterialStatus
from kiosk.outcomes import Delivery
from kiosk.session import State
from screens.base import KioskScreen
from screens.form import shown_value
from screens.widgets import BigButton, PagedRows, choice_look


class ReviewLine(BoxLayout):
    label = StringProperty("")
    value = StringProperty("")


class ReviewScreen(PagedRows, KioskScreen):
    delivery_height = NumericProperty(0)  # the tallest delivery button's text needs
    elderly_rows = (9, 4)  # lines a page in elderly mode before the list is measured
    # In large type the button under the list turns the pages, then submits on the last:
    # a second tap this soon after a turn (a double tap, a trembling finger) is not a submit
    # of the page that has only just appeared
    TURN_GUARD = 1.0  # seconds; the button is greyed meanwhile, so a tap is not lost unseen
    _turned_at = -TURN_GUARD
    guarded = BooleanProperty(False)

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        terminal.subscribe(self._on_terminal)

    def on_kv_post(self, *_):
        self.watch_list()

    def heads(self, row) -> bool:
        return not isinstance(row, ReviewLine)  # a group's title, the promised days

    def _on_terminal(self, what: str):
        if what == "elderly" and self.manager is not None and self.manager.current == self.name:
            self.fill()  # fewer, larger lines a page (or all of them again)

    def on_pre_enter(self, *_):
        self.page = 0
        self.fill()

    def relanguage(self) -> None:
        self.fill()

    def wipe(self) -> None:
        super().wipe()
        self.forget_rows()

    def promised(self) -> str:
        """The promise in words, with the date the outcome and the receipt will print."""
        days, due, waiting = self.journey.promise(self.terminal.today())
        date = long_date(due.date, self.terminal.language)
        if waiting:  # materials brought later: done once they are in, not before their date
            text = self.t("review.promised_after_later", date=date)
        elif days == 0:
            text = self.t("review.on_the_spot", date=date)
        else:
            text = translate_days("review.promised", days, self.terminal.language, date=date)
        return text + ("\n" + self.t("outcome.provisional") if due.provisional else "")

    def fill(self):
        j, lang, cat = self.journey, self.terminal.language, self.terminal.catalog
        rows = []
        plan = j.plan()
        from_card = j.form().prefill(self.terminal.session.card)  # masked, as on the form
        rows.append(Factory.GroupHeading(text=self.t("review.matters")))
        for code in plan.matters:
            matter = cat.matters[code]
            dept = cat.departments.get(matter.department)
            rows.append(ReviewLine(label=dept.name.get(lang) if dept else "",
                                               value=matter.name.get(lang)))
        rows.append(Factory.Body(text=self.promised()))
        for group, items in j.review_groups(lang):
            change = BigButton(action=f"change:{group}", text=self.t("review.change"),
                               size_hint=(None, None), width=180, least_height=dp(64),
                               on_release=lambda _w, g=group: self.change(g))  # fmt: skip
            # as tall as its button (BigButton's own height: in a row of 90 it stood out)
            heading = Factory.BoxLayout(size_hint_y=None, height=max(90, change.height))
            change.bind(height=lambda b, h, box=heading: setattr(box, "height", max(90, h)))
            heading.add_widget(Factory.GroupHeading(text=self.t(f"group.{group}")))
            heading.add_widget(change)
            rows.append(heading)
            for f, value in items:
                shown = shown_value(f, value, lang, from_card=f.id in from_card)
                rows.append(ReviewLine(label=f.label.get(lang), value=shown or "—"))
        rows.append(Factory.GroupHeading(text=self.t("materials.title")))
        for item in j.materials():
            if item.status is MaterialStatus.REQUIRED:
                pages = len(j.scan_pages.get(item.code, []))
                state = (self.t("materials.scanned", pages=pages) if pages else
                         self.t("materials.deferred", due=j.defer_due(self.terminal.today()).isoformat()))
            elif item.status is MaterialStatus.ECERT:
                state = self.t("materials.waived_ecert")
            else:  # made by a matter of this very visit: named, as the materials list names it
                matter = cat.matters.get(item.produced_by)
                state = self.t("materials.waived_produced",
                               matter=matter.name.get(lang) if matter else item.produced_by)
            rows.append(ReviewLine(label=item.name.get(lang), value=state))
        self._rows = rows
        self.paginate()
        self.fill_delivery()

    def fill_delivery(self):
        box = self.ids.delivery
        box.clear_widgets()
        for d in Delivery:
            chosen = self.journey.delivery is d
            button = BigButton(
                action=f"delivery:{d.value}", text=("✓ " if chosen else "") + self.t(f"delivery.{d.value}"),
                **choice_look(chosen), size_hint_y=1,
                on_release=lambda _w, d=d: self.choose_delivery(d))
            button.bind(texture_size=self._fit_delivery)
            box.add_widget(button)

    def _fit_delivery(self, *_):
        """The three buttons stay one height: that of the one whose words wrap most."""
        self.delivery_height = max(b.texture_size[1] + dp(28) for b in self.ids.delivery.children)

    def choose_delivery(self, delivery: Delivery):
        self.journey.delivery = delivery
        if delivery is Delivery.MAIL and not self.journey.delivery_address:
            values = self.terminal.session.values
            self.journey.delivery_address = values.get("current_address") or values.get("applicant_address", "")
        self.terminal.touch()
        self.fill_delivery()

    def change(self, group: str | None = None):
        """Back to the form to change ``group`` (the form opens at that section)."""
        self.terminal.session.go(State.FORM, self.terminal.now())
        if group is not None and self.manager is not None:
            self.manager.get_screen("form").open_at(group)
        self.nav("form")

    def back(self):
        self.terminal.session.go(State.MATERIALS, self.terminal.now())
        self.nav("materials")

    def turn(self, step: int):
        super().turn(step)
        self._turned_at = time.monotonic()
        self.guarded = True
        Clock.schedule_once(self._unguard, self.TURN_GUARD)

    def _unguard(self, _dt=None):
        self.guarded = time.monotonic() - self._turned_at < self.TURN_GUARD
        if self.guarded:  # turned again meanwhile: its own second
            Clock.schedule_once(self._unguard, self.TURN_GUARD - (time.monotonic() - self._turned_at))

    def submit(self):
        if time.monotonic() - self._turned_at < self.TURN_GUARD:
            return
        self.run(self._submit())

    async def _submit(self):
        await self.terminal.submit()
        self.nav("outcome")

    def spoken(self) -> str:
        return self.t("review.title")
