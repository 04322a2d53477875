"""'Still there?': the countdown before an automatic wipe, one big button to go on."""

from __future__ import annotations

from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView


class StillThere(ModalView):
    seconds = NumericProperty(30)

    def __init__(self, on_continue, **kw):
        super().__init__(**kw)
        self._on_continue = on_continue

    def keep_going(self):
        self._on_continue()  # the terminal leaves the warning and the app dismisses this
