"""Home: greets the identified citizen and offers the life events as picture tiles,
a page at a time: all twelve at once in portrait, eight in landscape, four in
elderly mode (larger, with big 上一页 / 下一页 buttons rather than a long scroll)."""

from __future__ import annotations

from kivy.core.window import Window
from kivy.properties import StringProperty
from kivy.uix.widget import Widget

from kiosk.identity import id_number_of, mask
from screens.base import KioskScreen
from screens.paging import pages_of
from screens.widgets import Tile

# One character a tile, drawn in a circle: Noto Sans CJK has no emoji, and a
# single clear character reads well for the elderly.
GLYPHS = {
    "birth": "婴", "school_entry": "学", "employment": "业", "settle": "户",
    "medical_aid": "医", "retirement": "退", "after_death": "故", "vehicle": "车",
    "housing": "房", "business": "企", "construction": "建", "mortgage": "押",
}


def tile_grid(portrait: bool, elderly: bool) -> tuple[int, int]:
    """(columns, rows) of life-event tiles on one page of the home screen."""
    if portrait:
        return (2, 2) if elderly else (3, 4)
    return (4, 1) if elderly else (4, 2)


class HomeScreen(KioskScreen):
    citizen = StringProperty("")
    message = StringProperty("")

    def __init__(self, terminal, nav, on_finish, **kw):
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self._language = None
        self._elderly = None
        self.page = 0
        terminal.subscribe(self._on_terminal)

    def on_kv_post(self, *_):
        self.ids.pager.on_turn = self.turn
        if Window.width > Window.height:  # landscape: the services join the row below the
            services, actions = self.ids.services, self.ids.actions  # tiles, so two rows fit
            for button in list(services.children):
                services.remove_widget(button)
                actions.add_widget(button, index=len(actions.children))
            actions.cols = len(actions.children)
            services.parent.remove_widget(services)
            # six in a row: the longest words get a wider button, so none is cut in two
            self.ids.read_social.size_hint_x, self.ids.finish.size_hint_x = 1.3, 0.8

    def on_pre_enter(self, *_):
        self.citizen = self.terminal.display_name
        self.message = ""
        if self._language != self.terminal.language or self._elderly != self.terminal.elderly:
            self.fill_tiles()

    def warm(self) -> None:
        if self._language is None:
            self.fill_tiles()  # the twelve tiles in the kiosk's language

    def catalog_changed(self) -> None:
        self._language = None  # the next visit draws the tiles from the new catalog

    def wipe(self) -> None:
        super().wipe()
        self.citizen = self.message = ""
        if self.page:
            self.page = 0
            self._language = None  # the next citizen starts on the first page

    def _on_terminal(self, what: str) -> None:
        if what == "elderly" and self.manager is not None and self.manager.current == self.name:
            self.page = 0
            self.fill_tiles()  # larger tiles, fewer a page (or back)

    def relanguage(self) -> None:
        self.fill_tiles()  # the tiles' titles and lines, drawn anew

    def turn(self, step: int) -> None:
        self.terminal.touch()
        self.page += step
        self.fill_tiles()

    def fill_tiles(self):
        grid = self.ids.tiles
        grid.clear_widgets()
        catalog = self.terminal.catalog
        if catalog is None:
            return
        lang = self._language = self.terminal.language
        self._elderly = self.terminal.elderly
        cols, rows = tile_grid(Window.height >= Window.width, self.terminal.elderly)
        grid.cols, grid.rows = cols, rows
        pages = pages_of(list(catalog.life_events.values()), cols * rows)
        self.page = max(0, min(self.page, len(pages) - 1))
        pager = self.ids.pager
        pager.page, pager.pages = self.page, len(pages)
        shown = pages[self.page]
        for event in shown:
            grid.add_widget(Tile(
                action=f"event:{event.code}",
                icon=event.icon,  # a picture; where none is drawn, a character
                glyph=GLYPHS.get(event.code, event.title.zh[:1]),
                caption=event.title.get(lang),
                note=event.description.get(lang),
                on_release=lambda _w, code=event.code: self.choose(code),
            ))
        if len(pages) > 1:  # the last page keeps the tiles' size
            for _ in range(cols * rows - len(shown)):
                grid.add_widget(Widget())

    def choose(self, code: str):
        if self.terminal.session is None or self.terminal.session.card is None:
            self.error = self.t("home.lay_card_to_apply")
            return
        question = self.journey.choose(code, self.terminal.now())
        self.nav("question" if question else "form")

    def open_record(self):
        """The contribution record is printed for the card read in this visit only."""
        session = self.terminal.session
        if session is None or not id_number_of(session.card):
            self.error = self.t("record.lay_card")
            return
        self.nav("record")

    def read_social_card(self):
        self.run(self._read_social_card())

    async def _read_social_card(self):
        self.message = self.t("home.insert_social_card")
        await self.drawn()  # the words on screen before the reader and pcscd take the cores
        card = await self.terminal.read_social_card()
        self.message = self.t("home.social_card_read", name=mask(card.name), number=mask(card.ss_number, 6, 4))

    def finish(self):
        self._on_finish()

    def spoken(self) -> str:
        if self.citizen:
            return self.t("home.greeting", name=self.citizen) + "。" + self.t("home.choose_life_event")
        return self.t("home.lay_card_to_apply")
