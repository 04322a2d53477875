"""The kiosk's on-screen keyboard: digits, letters, and pinyin with Chinese candidates.

The kiosk has no physical keyboard and the system keyboard never shows (the
form's TextInputs use ``keyboard_mode='managed'``). Every key is a BigButton
whose ``action`` names it ("key:a", "key:1", "key:backspace", "candidate:0",
"candidates:next", "mode:digits"), so the walkthrough and the UI tests tap it
as a finger would. Every tap dispatches ``on_activity`` (the inactivity timer
resets on it). Pinyin ranking lives in the core (kiosk.pinyin_input).

The lead loads ``keyboard.kv`` (KV_FILE) at start-up, after widgets.kv.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from kiosk.pinyin_input import PinyinComposer
from screens import widgets  # noqa: F401 - BigButton, which every key is

KV_FILE = Path(__file__).with_name("keyboard.kv")
MODES = ("pinyin", "letters", "digits")
DIGIT_ROWS = ("123", "456", "789", "X0")  # X: the check digit of an ID number
QWERTY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


class KioskKeyboard(BoxLayout):
    """Edits an attached TextInput (or its own ``text`` when none is attached).

    Events: ``on_activity(keyboard, action)`` after every key tap;
    ``on_done(keyboard)`` when 完成 is tapped.
    """

    mode = OptionProperty("pinyin", options=MODES)
    # the modes the mode keys offer, e.g. ["digits"] alone for an ID number field
    modes = ListProperty(list(MODES))
    text = StringProperty("")  # the edited text when no TextInput is attached
    buffer = StringProperty("")  # pinyin letters typed, not yet chosen
    candidates = ListProperty([])  # this page's candidates
    page = NumericProperty(0)
    has_prev = BooleanProperty(False)
    has_next = BooleanProperty(False)
    per_page = NumericProperty(6)
    # the digit pad's X (an ID number's check digit): off for a phone number, a date, an amount
    check_digit = BooleanProperty(True)

    __events__ = ("on_activity", "on_done")

    def __init__(self, composer: PinyinComposer | None = None, **kw):
        self._composer = composer or PinyinComposer()
        self._target = None
        self._layouts: dict[str, BoxLayout] = {}
        self._letter_keys: list = []
        self._x_key = None  # the digit pad's X, once the pad is made
        self._warming: threading.Thread | None = None
        self._bar = None
        super().__init__(**kw)

    # -- what the form calls ----------------------------------------------
    def attach(self, target) -> None:
        """Edit ``target`` (a TextInput; None for the keyboard's own ``text``).

        Pending pinyin is dropped; typing goes at the end of the field's text.
        """
        self._composer.clear()
        self._refresh()
        self._target = target
        if target is not None:
            target.keyboard_mode = "managed"  # never let the system keyboard show
            target.cursor = target.get_cursor_from_index(len(target.text))

    def press(self, action: str) -> None:
        """Do what the key named ``action`` does, then dispatch ``on_activity``.

        :raises ValueError: ``action`` names no key of this keyboard.
        """
        kind, _, arg = action.partition(":")
        if kind == "key":
            self._key(arg)
        elif kind == "candidate":
            self._choose(self.page * self.per_page + int(arg))
        elif kind == "candidates" and arg in ("next", "prev"):
            if self.has_next if arg == "next" else self.has_prev:
                self.page += 1 if arg == "next" else -1
                self._refresh(keep_page=True)
        elif kind == "mode" and arg in MODES:
            self.mode = arg
        else:
            raise ValueError(f"no such key: {action!r}")
        self.dispatch("on_activity", action)
        if action == "key:done":
            self.dispatch("on_done")

    def on_activity(self, action: str) -> None:
        pass

    def on_done(self) -> None:
        pass

    # -- keys ---------------------------------------------------------------
    def _key(self, name: str) -> None:
        pending = self.mode == "pinyin" and bool(self._composer.buffer)
        if name == "backspace":
            if pending:
                self._composer.backspace()
                self._refresh()
            else:
                self._delete()
        elif name == "clear":
            self._composer.clear()
            self._refresh()
            self._replace("")
        elif name == "space":
            if pending:  # as on every pinyin keyboard: space takes the first candidate
                if self._composer.count():
                    self._choose(0)
            else:
                self._insert(" ")
        elif name == "done":
            self._composer.clear()  # letters never chosen were never text
            self._refresh()
        elif len(name) == 1 and name.isascii() and name.isalnum():
            if name == "x" and self.mode == "digits" and not self.check_digit:
                return  # not offered (the key is hidden): a phone number has no X
            if self.mode == "pinyin" and name.isalpha():
                self._composer.type(name)
                self._refresh()
            else:
                self._insert(name.upper())
        else:
            raise ValueError(f"no such key: key:{name}")

    def _choose(self, index: int) -> None:
        if index < self._composer.count():
            self._insert(self._composer.choose(index))
            self._refresh()

    def _refresh(self, keep_page: bool = False) -> None:
        if not keep_page:
            self.page = 0
        self.buffer = self._composer.buffer
        self.candidates = self._composer.candidates(self.per_page, self.page)
        self.has_prev = self.page > 0
        self.has_next = self._composer.count() > (self.page + 1) * self.per_page

    # -- the edited text ----------------------------------------------------
    def _insert(self, s: str) -> None:
        if self._target is not None:
            self._target.insert_text(s)
        else:
            self.text += s

    def _delete(self) -> None:
        if self._target is not None:
            self._target.do_backspace()
        else:
            self.text = self.text[:-1]

    def _replace(self, s: str) -> None:
        if self._target is not None:
            self._target.text = s
        else:
            self.text = s

    # -- layout ---------------------------------------------------------------
    def on_kv_post(self, base_widget):
        self._bar = self.ids.bar.__self__  # ids are weak: keep the bar alive while it is off screen
        for i in range(int(self.per_page)):
            slot = Factory.CandidateKey(action=f"candidate:{i}")
            slot.bind(on_release=self._tapped)
            self.ids.slots.add_widget(slot)
        for button in (self.ids.prev_page, self.ids.next_page):
            button.bind(on_release=self._tapped)
        self._show_mode()
        self._refresh()
        self.on_candidates()

    def on_mode(self, *_):
        if self.mode != "pinyin":
            self._composer.clear()
            self._refresh()
        if self._bar is not None:
            self._show_mode()

    def on_modes(self, *_):
        if self._bar is not None:
            self._show_mode()

    def on_candidates(self, *_):
        if self._bar is None:
            return
        for i, slot in enumerate(reversed(self.ids.slots.children)):
            text = self.candidates[i] if i < len(self.candidates) else ""
            slot.text = text
            slot.disabled = not text
            slot.size_hint_x = max(1.0, 0.5 + 0.5 * len(text))  # a four-character word gets room

    def _tapped(self, button) -> None:
        self.press(button.action)

    def _show_mode(self) -> None:
        if self.mode == "pinyin" and self._warming is None:
            # The reverse index takes ~1 s to build; build it off the UI thread.
            self._warming = threading.Thread(
                target=self._composer.warm, name="pinyin-index", daemon=True
            )
            self._warming.start()
        bar = self._bar
        if self.mode == "pinyin" and bar.parent is None:
            self.add_widget(bar, index=len(self.children))
        elif self.mode != "pinyin" and bar.parent is not None:
            self.remove_widget(bar)
        keys = self.ids.key_area
        keys.clear_widgets()
        keys.add_widget(self._layout("digits" if self.mode == "digits" else "qwerty"))
        for key in self._letter_keys:
            letter = key.action.removeprefix("key:")
            key.text = letter.upper() if self.mode == "letters" else letter
        self._bottom_row()

    def _layout(self, name: str) -> BoxLayout:
        if name not in self._layouts:
            box = Factory.KeyRows()
            rows = DIGIT_ROWS if name == "digits" else QWERTY_ROWS
            for n, row in enumerate(rows):
                line = Factory.KeyRow() if name == "qwerty" else Factory.DigitRow()
                for ch in row:
                    key = self._key_button(
                        "DigitKey" if name == "digits" else "CharKey", f"key:{ch.lower()}"
                    )
                    key.text = ch
                    if ch.isalpha() and name == "qwerty":
                        self._letter_keys.append(key)
                    if ch == "X" and name == "digits":
                        self._x_key = key
                        self._offer_check_digit()
                    line.add_widget(key)
                if n == len(rows) - 1:  # backspace ends the last row, where thumbs expect it
                    backspace = self._key_button("KeyBackspace")
                    if name == "digits":
                        backspace.size_hint_x = 1  # keep the keypad a 3 x 4 grid
                    line.add_widget(backspace)
                box.add_widget(line)
            self._layouts[name] = box
        return self._layouts[name]

    def on_check_digit(self, *_args) -> None:
        self._offer_check_digit()

    def _offer_check_digit(self) -> None:
        """The X shown and usable only where the field takes one (its place kept: the pad
        stays a 3 x 4 grid, the keys where fingers expect them)."""
        if self._x_key is not None:
            self._x_key.disabled = not self.check_digit
            self._x_key.opacity = 1 if self.check_digit else 0

    def _bottom_row(self) -> None:
        row = self.ids.bottom
        row.clear_widgets()
        for other in self.modes:
            if other != self.mode:
                key = self._key_button("KeyMode")
                key.target_mode = other
                row.add_widget(key)
        if self.mode != "digits":
            row.add_widget(self._key_button("KeySpace"))
        row.add_widget(self._key_button("KeyClear"))
        row.add_widget(self._key_button("KeyDone"))

    def _key_button(self, cls: str, action: str | None = None):
        button = getattr(Factory, cls)()
        if action:
            button.action = action
        button.bind(on_release=self._tapped)
        return button
