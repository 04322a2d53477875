"""Check your answers: everything on one page grouped by topic, each with
"change"; the delivery choice; then one submission."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.materials import MaterialStatus
from kiosk.outcomes import Delivery
from kiosk.session import State
from kiosk.timelimits import bundle_limit
from screens.base import KioskScreen
from screens.form import shown_value
from screens.widgets import BigButton


class ReviewLine(BoxLayout):
    label = StringProperty("")
    value = StringProperty("")


class ReviewScreen(KioskScreen):
    def on_pre_enter(self, *_):
        self.fill()

    def wipe(self) -> None:
        super().wipe()
        self.ids.rows.clear_widgets()

    def fill(self):
        j, lang, cat = self.journey, self.terminal.language, self.terminal.catalog
        rows = self.ids.rows
        rows.clear_widgets()
        plan = j.plan()
        limit = bundle_limit(cat.matters, plan.matters, j.event.order)
        rows.add_widget(Factory.GroupHeading(text=self.t("review.matters")))
        for code in plan.matters:
            matter = cat.matters[code]
            dept = cat.departments.get(matter.department)
            rows.add_widget(ReviewLine(label=dept.name.get(lang) if dept else "",
                                               value=matter.name.get(lang)))
        rows.add_widget(Factory.Body(text=self.t("review.promised", days=limit.days)))
        for group, items in j.review_groups(lang):
            heading = Factory.BoxLayout(size_hint_y=None, height=90)
            heading.add_widget(Factory.GroupHeading(text=self.t(f"group.{group}")))
            heading.add_widget(BigButton(action=f"change:{group}", text=self.t("review.change"),
                                         size_hint=(None, None), width=180, height=72,
                                         on_release=lambda _w: self.change()))
            rows.add_widget(heading)
            for f, value in items:
                rows.add_widget(ReviewLine(label=f.label.get(lang),
                                                   value=shown_value(f, value, lang) or "—"))
        rows.add_widget(Factory.GroupHeading(text=self.t("materials.title")))
        for item in j.materials():
            if item.status is MaterialStatus.REQUIRED:
                pages = len(j.scan_pages.get(item.code, []))
                state = (self.t("materials.scanned", pages=pages) if pages else
                         self.t("materials.deferred", due=j.defer_due(self.terminal.today()).isoformat()))
            else:
                state = self.t("materials.waived_ecert" if item.status is MaterialStatus.ECERT
                               else "materials.waived_produced", matter="")
            rows.add_widget(ReviewLine(label=item.name.get(lang), value=state))
        self.fill_delivery()

    def fill_delivery(self):
        box = self.ids.delivery
        box.clear_widgets()
        for d in Delivery:
            chosen = self.journey.delivery is d
            box.add_widget(BigButton(
                action=f"delivery:{d.value}", text=("✓ " if chosen else "") + self.t(f"delivery.{d.value}"),
                bg_color=(0.09, 0.25, 0.52, 1) if chosen else (0.6, 0.65, 0.72, 1),
                on_release=lambda _w, d=d: self.choose_delivery(d)))

    def choose_delivery(self, delivery: Delivery):
        self.journey.delivery = delivery
        if delivery is Delivery.MAIL and not self.journey.delivery_address:
            values = self.terminal.session.values
            self.journey.delivery_address = values.get("current_address") or values.get("applicant_address", "")
        self.terminal.touch()
        self.fill_delivery()

    def change(self):
        self.terminal.session.go(State.FORM, self.terminal.now())
        self.nav("form")

    def back(self):
        self.terminal.session.go(State.MATERIALS, self.terminal.now())
        self.nav("materials")

    def submit(self):
        self.run(self._submit())

    async def _submit(self):
        await self.terminal.submit()
        self.nav("outcome")

    def spoken(self) -> str:
        return self.t("review.title")
