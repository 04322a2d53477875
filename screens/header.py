"""The header's lines (screens/app.kv): the title on the left, the service point's name
over the clock on the right. In English both are long, and a portrait screen cannot
give them their full size side by side: each line takes the largest type that fits,
and the title a shorter wording when even the smallest type would not."""

from __future__ import annotations

import math

from kivy.core.text import Label as CoreLabel
from kivy.properties import ListProperty, NumericProperty

from screens.widgets import FIT, Label


def fitted(widths: list[float], room: float, largest: float, smallest: float) -> tuple[int, float]:
    """Which of some texts to show in ``room``, and at what size, given each one's width
    at the ``largest`` size (best first): the first that fits at ``smallest`` or more, as
    large as fits (in whole pixels: text is drawn so); the last at ``smallest`` when none
    does."""
    for i, width in enumerate(widths):
        size = largest if width <= room + 0.5 else math.floor(largest * room / width)
        if size >= smallest:
            return i, size
    return len(widths) - 1, smallest


class FittedLine(Label):
    """One line: the first of ``texts`` that fits its width at ``min_font_size`` or more, in
    the largest type up to ``max_font_size`` that fits; the last, cut with "…", when none
    does. ``natural_width``: the width the first text asks for at ``max_font_size``."""

    texts = ListProperty([])
    max_font_size = NumericProperty(0)
    min_font_size = NumericProperty(0)
    natural_width = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        for name in ("texts", "width", "max_font_size", "min_font_size", "font_name", "bold"):
            self.fbind(name, self._fit)
        self._fit()

    def _width_of(self, text: str) -> float:
        """At the largest size; the wider of the whole line and the sum of its characters
        (what the Label's own wrapping measures: a line it thinks too wide, it breaks)."""
        extents = CoreLabel(font_size=self.max_font_size, font_name=self.font_name,
                            bold=self.bold).get_cached_extents()  # fmt: skip
        return max(extents(text)[0], sum(extents(ch)[0] for ch in text))

    def _fit(self, *_):
        texts = [text for text in self.texts if text]
        if not texts or self.max_font_size <= 0:
            self.text, self.natural_width = "", 0
            return
        widths = [self._width_of(text) for text in texts]
        self.natural_width = widths[0] / FIT
        room = self.width * FIT
        smallest = self.min_font_size or self.max_font_size
        i, size = fitted(widths, room, self.max_font_size, smallest)
        self.shorten = widths[i] * size / self.max_font_size > room
        self.text, self.font_size = texts[i], size
