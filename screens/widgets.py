"""Shared widgets: large touch targets and the page chrome."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label


class BigButton(ButtonBehavior, Label):
    """A large rounded touch target. ``action`` names the intent it sends
    (the scripted walkthrough and the UI tests find buttons by it)."""

    action = StringProperty("")
    bg_color = ColorProperty((0.12, 0.31, 0.62, 1))
    fg_color = ColorProperty((1, 1, 1, 1))
    busy = BooleanProperty(False)


class Tile(ButtonBehavior, BoxLayout):
    """A picture tile (life events): a glyph in a circle, a caption, a note."""

    action = StringProperty("")
    glyph = StringProperty("")
    caption = StringProperty("")
    note = StringProperty("")
