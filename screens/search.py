"""Matter search: the citizen types a name or its pinyin initials on the kiosk
keyboard; the matters found are large buttons, each opening its guide.

The search itself is the core's (kiosk.search); this screen only feeds it what
was typed (chosen characters plus pinyin letters still being typed) and shows
the result. The index is built once, off the UI thread.
"""

from __future__ import annotations

import asyncio

from kivy.properties import StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.search import MatterSearch
from screens.base import KioskScreen
from screens.keyboard import KioskKeyboard

MAX_RESULTS = 20


class SearchScreen(KioskScreen):
    query = StringProperty("")  # what the citizen typed so far, pinyin letters included
    summary = StringProperty("")

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self.index: MatterSearch | None = None
        self.keyboard: KioskKeyboard | None = None
        self.codes: list[str] = []  # the matters shown, best first
        terminal.subscribe(self._on_terminal)

    def on_pre_enter(self, *_):
        keyboard = self.ensure_keyboard()
        if not self.query:  # a fresh search (back from a guide keeps the last one)
            keyboard.mode = "letters" if self.terminal.language.startswith("en") else "pinyin"
        self.refresh()

    def on_enter(self, *_):
        if self.index is None and self.terminal.catalog is not None:
            self.run(self._build())

    async def _build(self):
        catalog = self.terminal.catalog
        index = await asyncio.to_thread(MatterSearch, catalog)
        if catalog is self.terminal.catalog:  # not replaced meanwhile (that build follows)
            self.index = index
            self.refresh()

    def ensure_keyboard(self) -> KioskKeyboard:
        if self.keyboard is None:
            self.keyboard = KioskKeyboard(modes=["pinyin", "letters"],
                                          on_activity=lambda *_: self.terminal.touch())  # fmt: skip
            self.keyboard.bind(text=self._typed, buffer=self._typed)
            self.ids.keyboard_area.add_widget(self.keyboard)
        return self.keyboard

    def _typed(self, *_):
        self.query = self.keyboard.text + self.keyboard.buffer
        self.refresh()

    def refresh(self):
        """Search again for what is typed and show the matters found."""
        grid = self.ids.results
        grid.clear_widgets()
        self.codes = []
        if self.index is None or not self.query.strip():
            self.summary = ""
            return
        lang, catalog = self.terminal.language, self.terminal.catalog
        self.codes = self.index.codes(self.query, lang, limit=MAX_RESULTS)
        if not self.codes:
            self.summary = self.t("search.none", query=self.query)
            return
        self.summary = self.t("search.count", count=len(self.codes))
        for code in self.codes:
            matter = catalog.matters[code]
            dept = catalog.departments.get(matter.department)
            grid.add_widget(MatterButton(
                action=f"matter:{code}", caption=matter.name.get(lang),
                note=dept.name.get(lang) if dept else "",
                on_release=lambda _w, c=code: self.open(c),
            ))  # fmt: skip

    def open(self, code: str):
        self.terminal.touch()
        self.manager.get_screen("guide").show_matter(code, back_to=self.name)
        self.nav("guide")

    def clear(self):
        if self.keyboard is not None:
            self.keyboard.press("key:clear")

    def back(self):
        self.clear()
        self.nav("home")

    def relanguage(self) -> None:
        self.refresh()

    def _on_terminal(self, what: str):
        if what == "ended":
            self.clear()  # the next citizen starts with an empty search
        elif what == "catalog":  # a new catalog from the platform: its matters are searched
            self.index = None
            if self.manager is not None and self.manager.current == self.name:
                self.run(self._build())

    def spoken(self) -> str:
        return self.t("search.hint")


class MatterButton(ButtonBehavior, BoxLayout):
    """One matter found: its name large, its department under it."""

    action = StringProperty("")
    caption = StringProperty("")
    note = StringProperty("")
