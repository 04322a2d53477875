"""Rating (好差评): five faces; a bad rating asks why with tap reasons."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.widgets import BigButton, choice_look

FACE_COLOURS = {5: (0.3, 0.75, 0.4, 1), 4: (0.6, 0.82, 0.35, 1), 3: (0.98, 0.8, 0.3, 1),
                2: (0.97, 0.6, 0.3, 1), 1: (0.92, 0.38, 0.32, 1)}
REASONS = ("slow", "unclear", "device", "materials", "staff")


class FaceButton(ButtonBehavior, BoxLayout):
    action = StringProperty("")
    level = NumericProperty(3)
    caption = StringProperty("")
    face_color = ColorProperty((1, 1, 1, 1))
    chosen = BooleanProperty(False)


class RateScreen(KioskScreen):
    stars = NumericProperty(0)
    message = StringProperty("")

    def on_pre_enter(self, *_):
        self.stars = 0
        self.chosen_reasons: set[str] = set()
        faces = self.ids.faces
        faces.clear_widgets()
        for level in (5, 4, 3, 2, 1):
            faces.add_widget(FaceButton(action=f"stars:{level}", level=level,
                                        caption=self.t(f"rate.{level}"), face_color=FACE_COLOURS[level],
                                        on_release=lambda _w, n=level: self.choose(n)))
        self.ids.reasons.clear_widgets()

    def relanguage(self) -> None:
        for face in self.ids.faces.children:
            face.caption = self.t(f"rate.{face.level}")
        self.fill_reasons()

    def choose(self, stars: int):
        self.stars = stars
        for face in self.ids.faces.children:
            face.chosen = face.level == stars
        self.terminal.touch()
        self.fill_reasons()

    def fill_reasons(self):
        box = self.ids.reasons
        box.clear_widgets()
        if self.stars > 2:
            self.chosen_reasons.clear()
            return
        for r in REASONS:
            on = r in self.chosen_reasons
            box.add_widget(BigButton(action=f"reason:{r}", text=("✓ " if on else "") + self.t(f"rate.reason.{r}"),
                                     **choice_look(on, accent=(0.85, 0.33, 0.1, 1)),
                                     on_release=lambda _w, r=r: self.toggle(r)))

    def toggle(self, reason: str):
        self.chosen_reasons ^= {reason}
        self.terminal.touch()
        self.fill_reasons()

    def skip(self):
        self.nav("end")

    def send(self):
        self.run(self._send())

    async def _send(self):
        await self.terminal.rate(self.stars, sorted(self.chosen_reasons))
        self.nav("end")

    def spoken(self) -> str:
        return self.t("rate.title")
