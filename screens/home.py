"""Home: greets the identified citizen and offers the life events as picture tiles."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.identity import mask
from screens.base import KioskScreen
from screens.widgets import Tile

# One character a tile, drawn in a circle: Noto Sans CJK has no emoji, and a
# single clear character reads well for the elderly.
GLYPHS = {
    "birth": "婴", "school_entry": "学", "employment": "业", "settle": "户",
    "medical_aid": "医", "retirement": "退", "after_death": "故", "vehicle": "车",
    "housing": "房", "business": "企", "construction": "建", "mortgage": "押",
}


class HomeScreen(KioskScreen):
    citizen = StringProperty("")
    message = StringProperty("")

    def __init__(self, terminal, nav, on_finish, **kw):
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self._language = None

    def on_pre_enter(self, *_):
        self.citizen = self.terminal.display_name
        self.message = ""
        if self._language != self.terminal.language:
            self.fill_tiles()

    def catalog_changed(self) -> None:
        self._language = None  # the next visit draws the tiles from the new catalog

    def wipe(self) -> None:
        super().wipe()
        self.citizen = self.message = ""

    def fill_tiles(self):
        grid = self.ids.tiles
        grid.clear_widgets()
        catalog = self.terminal.catalog
        if catalog is None:
            return
        lang = self._language = self.terminal.language
        for event in catalog.life_events.values():
            grid.add_widget(Tile(
                action=f"event:{event.code}",
                glyph=GLYPHS.get(event.code, event.title.zh[:1]),
                caption=event.title.get(lang),
                note=event.description.get(lang),
                on_release=lambda _w, code=event.code: self.choose(code),
            ))

    def choose(self, code: str):
        if self.terminal.session is None or self.terminal.session.card is None:
            self.error = self.t("home.lay_card_to_apply")
            return
        question = self.journey.choose(code, self.terminal.now())
        self.nav("question" if question else "form")

    def read_social_card(self):
        self.run(self._read_social_card())

    async def _read_social_card(self):
        self.message = self.t("home.insert_social_card")
        card = await self.terminal.read_social_card()
        self.message = self.t("home.social_card_read", name=mask(card.name), number=mask(card.ss_number, 6, 4))

    def finish(self):
        self._on_finish()

    def spoken(self) -> str:
        if self.citizen:
            return self.t("home.greeting", name=self.citizen) + "。" + self.t("home.choose_life_event")
        return self.t("home.lay_card_to_apply")
