"""A matter's guide (办事指南): materials, time limit, fees and where it is handled,
readable on screen and taken away as a QR code of the platform's guide page.

"Apply" starts the life event (一件事) that includes the matter: the catalog
bundles matters into life events, the guided questions decide the bundle, and
the citizen fills one form for all of it. A matter no life event includes is
applied for at a service desk (a queue ticket is one tap away).
"""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.errors import KioskError
from kiosk.guide import Guide, guide_lines, material_note
from kiosk.i18n import message_for
from screens.base import KioskScreen
from screens.outcome import qr_texture
from screens.widgets import BigButton


class GuideLine(BoxLayout):
    """One fact of the guide (label: value), or one material with its note."""

    label = StringProperty("")
    value = StringProperty("")
    note = StringProperty("")


class GuideScreen(KioskScreen):
    title = StringProperty("")
    apply_note = StringProperty("")
    at_desk = BooleanProperty(False)  # no life event includes it: apply at a desk
    qr_text = StringProperty("")

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self.code = ""
        self.back_to = "home"
        self.guide: Guide | None = None

    def show_matter(self, code: str, back_to: str = "home") -> None:
        """Which matter to show when the screen next appears, and where "back" goes."""
        self.code, self.back_to = code, back_to

    def on_pre_enter(self, *_):
        self.fill()

    def fill(self):
        rows = self.ids.rows
        rows.clear_widgets()
        self.ids.apply.clear_widgets()
        lang = self.terminal.language
        try:
            guide = self.guide = self.terminal.guide(self.code)
        except KioskError as err:
            self.guide, self.title, self.qr_text, self.apply_note = None, "", "", ""
            self.error = message_for(err, lang)
            return
        self.title = guide.name
        for label, value in guide_lines(guide, lang):
            rows.add_widget(GuideLine(label=label, value=value))
        rows.add_widget(Factory.GroupHeading(text=self.t("guide.materials")))
        for n, item in enumerate(guide.materials, start=1):
            rows.add_widget(GuideLine(value=f"{n}. {item.name}", note=material_note(item, lang)))
        self.qr_text = guide.url
        self.ids.qr.texture = qr_texture(guide.url) if guide.url else None
        self.at_desk = not guide.life_events
        self.apply_note = self.t("guide.apply_at_desk" if self.at_desk else "guide.apply_in")
        for code, title in guide.life_events:
            self.ids.apply.add_widget(BigButton(
                action=f"apply:{code}", text=self.t("guide.apply", event=title),
                bg_color=(0.12, 0.54, 0.3, 1), on_release=lambda _w, c=code: self.apply(c),
            ))  # fmt: skip

    def apply(self, event: str):
        """Start the life event that includes this matter (the card is needed to apply)."""
        if self.terminal.session is None or self.terminal.session.card is None:
            self.error = self.t("home.lay_card_to_apply")
            return
        question = self.journey.choose(event, self.terminal.now())
        self.nav("question" if question else "form")

    def ticket(self):
        self.nav("ticket")

    def back(self):
        self.nav(self.back_to)

    def relanguage(self) -> None:
        self.fill()

    def spoken(self) -> str:
        return f"{self.title}。{self.apply_note}"
