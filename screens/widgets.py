"""Shared widgets: large touch targets and the page chrome."""

from __future__ import annotations

import math

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label as KivyLabel
from kivy.uix.relativelayout import RelativeLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.linebreak import clip, wrap
from screens.paging import pages_by_height, pages_of

FIT = 0.98  # of the width: the sum of characters' widths may differ from the line's by kerning


class Label(KivyLabel):
    """Kivy's Label, wrapping Chinese by its rules (kiosk.linebreak): no line of a
    message begins with a comma or ends with an opening quote. Every ``Label`` in
    the screens' .kv files is this one (registered under Kivy's name below)."""

    def texture_update(self, *largs):
        core = self._label
        width = (self.text_size[0] or 0) - self.padding[0] - self.padding[2]
        if width > 0 and not self.markup and self.text and not self.shorten:
            extents = core.get_cached_extents()
            widths: dict[str, float] = {}

            def measure(unit: str) -> float:
                total = 0.0
                for ch in unit:
                    w = widths.get(ch)
                    if w is None:
                        w = widths[ch] = extents(ch)[0]
                    total += w
                return total

            lines = clip(
                wrap(self.text, width * FIT, measure), self.max_lines, width * FIT, measure
            )
            core.text = "\n".join(lines)
        super().texture_update(*largs)


Factory.unregister("Label")
Factory.register("Label", cls=Label)


def wrapped_lines(text: str, width: float, font_size: float, font_name: str,
                  bold: bool = False) -> tuple[int, float]:
    """(lines, each line's height) of ``text`` wrapped to ``width`` as a ``Label`` wraps it."""
    if not text or width <= 1 or font_size <= 0:
        return 0, 0.0
    extents = CoreLabel(font_size=font_size, font_name=font_name, bold=bold).get_cached_extents()
    lines = wrap(text, width * FIT, lambda unit: sum(extents(ch)[0] for ch in unit))
    return len(lines), extents("国Ag")[1]


def fitting_font(text: str, width: float, room: float, largest: float, font_name: str,
                 bold: bool = False, least: float = 0.6) -> float:  # fmt: skip
    """The largest type, from ``largest`` down to ``least`` of it, at which ``text``
    wrapped to ``width`` as a ``Label`` wraps it is at most ``room`` high (the least when
    none is)."""
    size = largest
    if largest <= 0 or width <= 1 or room <= 0 or not text:
        return size
    while True:
        extents = CoreLabel(font_size=size, font_name=font_name, bold=bold).get_cached_extents()

        def measure(unit: str, extents=extents) -> float:
            return sum(extents(ch)[0] for ch in unit)

        if len(wrap(text, width * FIT, measure)) * extents("国Ag")[1] <= room:
            return size
        if size <= largest * least:
            return size
        size = max(largest * least, size - largest * 0.05)


class FitLabel(Label):
    """A label of a fixed height whose type shrinks (to 60 % of ``max_font_size`` at most)
    when its text would wrap to more lines than fit: a long message in large type stays
    in its box, and nothing below it moves when the message changes."""

    max_font_size = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._refit = Clock.create_trigger(self._fit)
        for name in ("text", "width", "height", "max_font_size", "text_size"):
            self.fbind(name, self._refit)

    def _fit(self, *_):
        width = (self.text_size[0] or self.width) - self.padding[0] - self.padding[2]
        room = self.height - self.padding[1] - self.padding[3]
        self.font_size = fitting_font(self.text, width, room, self.max_font_size,
                                      self.font_name, self.bold)  # fmt: skip


class BigButton(ButtonBehavior, Label):
    """A large rounded touch target. ``action`` names the intent it sends
    (the scripted walkthrough and the UI tests find buttons by it)."""

    action = StringProperty("")
    # the least height at normal type (times the type's scale), and the height it takes:
    # that, or its words' height and margins where they wrap (widgets.kv)
    least_height = NumericProperty(dp(96))
    natural_height = NumericProperty(0)
    bg_color = ColorProperty((0.12, 0.31, 0.62, 1))
    fg_color = ColorProperty((1, 1, 1, 1))
    busy = BooleanProperty(False)


CHOSEN_BLUE = (0.09, 0.25, 0.52, 1)
NOT_CHOSEN_BG = (0.87, 0.91, 0.97, 1)  # light, dark words on it: clearly a button, not disabled


def choice_look(chosen: bool, accent=CHOSEN_BLUE) -> dict:
    """A choice button's colours (bank, delivery, a bad rating's reason): the chosen one
    filled with ``accent``, white words and a ✓ (the text's job); the others light with
    dark words (7:1 and more), so none of them looks greyed out and unusable."""
    if chosen:
        return {"bg_color": accent, "fg_color": (1, 1, 1, 1)}
    return {"bg_color": NOT_CHOSEN_BG, "fg_color": (0.09, 0.2, 0.42, 1)}


class Tile(ButtonBehavior, BoxLayout):
    """A picture tile (life events): a glyph in a circle, a caption, a note."""

    action = StringProperty("")
    glyph = StringProperty("")  # a character in the circle, where there is no picture
    icon = StringProperty("")  # the catalog's picture (screens/pictograms.py)
    caption = StringProperty("")
    note = StringProperty("")
    wide = BooleanProperty(False)  # wider than tall: glyph beside the caption
    # the caption's type: ``max_caption_font`` where the caption fits in the tile, else as
    # much smaller as it takes (down to 70 %): a long name in large English type, on a
    # landscape row of four, stays inside its tile
    max_caption_font = NumericProperty(0)
    caption_font = NumericProperty(0)
    # a tall tile's circle: as large as GLYPH_MOST of the tile, smaller (to GLYPH_LEAST) where
    # that lets the whole note show ("社保…" in landscape large type); a wide tile's, 0.7.
    # The tiles of one grid share the smallest circle any of them wants: one page, one look
    glyph_wanted = NumericProperty(0)
    glyph_size = NumericProperty(0)
    GLYPH_MOST, GLYPH_LEAST = 0.42, 0.2
    # a note's line, in its type's size: Noto CJK sets lines 1.46 apart; counted at 1.45, a
    # third line was promised where two fit, and Kivy dropped it without the "…" (widgets.kv)
    NOTE_LINE = 1.5

    def on_kv_post(self, base_widget):
        self._fitted: tuple = ()
        self._refit = Clock.create_trigger(self._fit)  # once a frame, however many changes
        for name in ("caption", "max_caption_font", "height", "wide"):
            self.fbind(name, self._refit)
        self.ids.caption.fbind("width", self._refit)
        self.fbind("note", self._refit)
        self._fit()
        self._picture = None  # the icon's strokes, on the circle's canvas
        self._redraw = Clock.create_trigger(self._draw_icon)
        self.fbind("icon", self._redraw)
        self.ids.glyph.fbind("pos", self._redraw)
        self.ids.glyph.fbind("size", self._redraw)
        self._draw_icon()

    def _draw_icon(self, *_):
        from screens.pictograms import draw

        circle = self.ids.glyph
        if self._picture is not None:
            circle.canvas.after.remove(self._picture)
        self._picture = draw(self.icon, circle.x, circle.y, circle.width)
        if self._picture is not None:
            circle.canvas.after.add(self._picture)

    def _fit(self, *_):
        from kivy.app import App

        label, note = self.ids.caption, self.ids.note
        inner = self.height - self.padding[1] - self.padding[3]
        scale = getattr(App.get_running_app(), "scale", 1)
        most = min(dp(104) * scale, inner * (0.7 if self.wide else self.GLYPH_MOST))
        room = inner - dp(4) - (0 if self.wide else most + self.spacing)
        key = (self.caption, self.note, round(label.width), round(inner), most,
               self.max_caption_font, note.font_size)  # fmt: skip
        if key == self._fitted:
            return
        self._fitted = key
        self.caption_font = fitting_font(self.caption, label.width, room, self.max_caption_font,
                                         label.font_name, label.bold, least=0.7)  # fmt: skip
        glyph = most
        if not self.wide:  # the circle yields to the note, so far
            lines, high = wrapped_lines(self.caption, label.width, self.caption_font,
                                        label.font_name, label.bold)  # fmt: skip
            words = lines * high + dp(4)  # the caption's height (widgets.kv)
            # every line of the note, as the note's kv counts them (its max_lines)
            lines, _ = wrapped_lines(self.note, note.width, note.font_size, note.font_name)
            whole_note = lines * note.font_size * self.NOTE_LINE + dp(1)  # (a pixel's rounding)
            left = inner - self.spacing - words - label.parent.spacing - whole_note
            # a note cut even then keeps its tile's picture whole
            glyph = min(most, left) if left >= inner * self.GLYPH_LEAST else most
        self.glyph_wanted = max(dp(40), glyph)
        self._share()

    def on_parent(self, *_):
        self._share()

    def _share(self):
        tiles = [t for t in (self.parent.children if self.parent else [self])
                 if isinstance(t, Tile) and t.glyph_wanted]  # fmt: skip
        if tiles:
            size = min(t.glyph_wanted for t in tiles)
            for t in tiles:
                t.glyph_size = size


def laid_out_height(widget: Widget, width: float) -> float:
    """``widget``'s height laid out at ``width``, worked out now rather than over the next
    frames: for rows not in the list yet, to page the list by what fits. Its layouts are
    laid out top down and its labels rendered, so heights bound to their words follow."""
    from kivy.uix.layout import Layout

    widget.width = width
    layouts = []
    for w in widget.walk(restrict=True):  # parents first: each gives its children their widths
        if isinstance(w, Layout):
            w.do_layout()
            layouts.append(w)
        elif isinstance(w, KivyLabel):
            w.texture_update()
    for w in reversed(layouts):  # inner first: a minimum_height takes its children's heights
        w.do_layout()
    return widget.height


class DrawnOnce(RelativeLayout):
    """Its children drawn into a picture of their own, which the window then shows each
    frame; the picture is drawn again only when something in it changes (a tile pressed,
    the page turned). Under software GL every frame draws the whole window: the home
    screen's grid of tiles (rounded, outlined, each with a glyph and two labels) was most
    of the frame that shows a message over it ("社保卡已读取"). The picture starts from
    the window's white, so it is opaque: nothing under it shows or needs drawing.
    Children are laid out in its own coordinates (a RelativeLayout)."""

    def __init__(self, **kw):
        from kivy.base import EventLoop
        from kivy.graphics import ClearBuffers, ClearColor, Color, Fbo, Rectangle
        from kivy.graphics.instructions import RenderContext

        EventLoop.ensure_window()  # an Fbo needs the GL context
        # the children's canvases go into the Fbo (add_widget below), the picture here
        self.canvas = RenderContext(use_parent_projection=True, use_parent_modelview=True)
        with self.canvas:
            self.fbo = Fbo(size=(1, 1))
            Color(1, 1, 1, 1)
            self._picture = Rectangle(size=(1, 1), texture=self.fbo.texture)
        with self.fbo:
            ClearColor(1, 1, 1, 1)  # the window's clear colour (screens/app.py)
            ClearBuffers()
        super().__init__(**kw)
        self.fbind("size", self._resized)

    def _resized(self, *_):
        size = (round(self.width), round(self.height))
        if min(size) < 1:
            # an empty framebuffer fails to be made, and Kivy leaves it bound: every
            # frame after would be drawn into it (a black window). Laid out at 0 high a moment
            return
        self.fbo.size = size  # a new texture, drawn at the next frame
        self._picture.size = self.size
        self._picture.texture = self.fbo.texture
        self.fbo.ask_update()

    def _into_picture(self, change, *args, **kw):
        canvas, self.canvas = self.canvas, self.fbo
        try:
            return change(*args, **kw)
        finally:
            self.canvas = canvas

    def add_widget(self, *args, **kw):
        return self._into_picture(super().add_widget, *args, **kw)

    def remove_widget(self, *args, **kw):
        return self._into_picture(super().remove_widget, *args, **kw)

    def clear_widgets(self, *args, **kw):
        return self._into_picture(super().clear_widgets, *args, **kw)


class Pager(BoxLayout):
    """Big '上一页 / 下一页' buttons and 'page 2 of 3' between them, for a list shown a
    page at a time (elderly mode: fewer, larger items on each screen). It draws
    nothing when everything fits on one page. ``on_turn(step)`` is called with ±1.

    The buttons' wording is the first pair of ``prev_texts`` / ``next_texts`` (best first)
    that fits both on one line at ``max_font_size``: a narrow pager in large English type
    says "‹ Previous" rather than break "Previous page" over its edge. When none does,
    the last pair shrinks, down to ``min_font_size``, and is cut with "…" below that."""

    page = NumericProperty(0)
    pages = NumericProperty(1)
    on_turn = ObjectProperty(None, allownone=True)
    # False where the screen's own button reads on (the review's "下一页，继续核对"): one
    # way forward, not two buttons side by side saying nearly the same
    show_next = BooleanProperty(True)
    # its height under a list, its width at a list's side, once there are pages (the list
    # pages by the room left with it shown)
    full_height = NumericProperty(0)
    full_width = NumericProperty(0)
    prev_texts = ListProperty([])
    next_texts = ListProperty([])
    max_font_size = NumericProperty(0)
    min_font_size = NumericProperty(0)
    # what the buttons show (widgets.kv binds them)
    prev_text = StringProperty("")
    next_text = StringProperty("")
    button_font_size = NumericProperty(0)
    button_shorten = BooleanProperty(False)

    def on_kv_post(self, base_widget):
        # the buttons (ids) are there once the kv rules have been applied
        for name in ("prev_texts", "next_texts", "max_font_size", "min_font_size"):
            self.fbind(name, self._fit)
        self.ids.prev.fbind("text_size", self._fit)
        self._fit()

    def _fit(self, *_):
        button = self.ids.prev  # both buttons are as wide
        pairs = [pair for pair in zip(self.prev_texts, self.next_texts, strict=False) if all(pair)]
        largest = self.max_font_size
        if not pairs or largest <= 0:
            return
        extents = CoreLabel(font_size=largest, font_name=button.font_name,
                            bold=button.bold).get_cached_extents()  # fmt: skip

        def width(text: str) -> float:  # as the Label's own wrapping measures it (see FittedLine)
            return max(extents(text)[0], sum(extents(ch)[0] for ch in text))

        widths = [max(width(prev), width(nxt)) for prev, nxt in pairs]
        room = (button.text_size[0] or button.width) * FIT
        best = next((i for i, w in enumerate(widths) if w <= room + 0.5), len(pairs) - 1)
        size = largest if widths[best] <= room + 0.5 else math.floor(largest * room / widths[best])
        size = max(size, self.min_font_size or largest)
        self.prev_text, self.next_text = pairs[best]
        self.button_font_size = size
        self.button_shorten = widths[best] * size / largest > room + 0.5

    def turn(self, step: int) -> None:
        if self.on_turn is not None and 0 <= self.page + step < self.pages:
            self.on_turn(step)


def even_rows(grid, buttons: list) -> None:
    """Every button of ``grid`` (a GridLayout with ``row_force_default``, its buttons
    ``size_hint_y: 1``) as tall as the one whose words wrap most, now and whenever one's
    natural height changes: a row's buttons line up at the top as well as the bottom."""

    def even(*_):
        grid.row_default_height = max(b.natural_height for b in buttons)

    for b in buttons:
        b.bind(natural_height=even)
    even()


class PagedRows:
    """A screen whose list (``ids.rows`` in ``ids.scroll``, ``ids.pager`` under it, at its
    side or elsewhere on the screen) is shown a page at a time in elderly mode: as many of
    ``_rows`` a page as the list shows whole, each row measured at the list's width
    (``elderly_rows``, for portrait and landscape, until the list has a size); a row that
    ``heads`` the ones after it (a year, a group's title) never ends a page. Otherwise one
    page of every row, scrolled. ``watch_list()`` once the ids exist (``on_kv_post``);
    ``paginate()`` when ``_rows`` change; ``forget_rows()`` when the visit is wiped."""

    page = 0
    elderly_rows = (4, 2)
    _pages: list[list]  # the rows of each page
    _rows: list  # every row of the list, set by the screen

    def heads(self, row) -> bool:
        return False

    def kept_row(self):
        """The row whose page stays shown when the list is paged again (its room changed):
        the first of the page shown."""
        page = self._pages[self.page] if 0 <= self.page < len(self._pages) else []
        return page[0] if page else None

    def room_taken(self) -> tuple[float, float]:
        """The (width, height) taken from the list for a while only (the form's keyboard
        beside it or under it): pages are cut as if it were not, so that they stay the same
        while it shows (the page then scrolls in the room left)."""
        return 0.0, 0.0

    def watch_list(self) -> None:
        """Turn pages with the pager, and page again when the list's room changes (a
        longer hint, the signature pad opened beside it, another language), keeping the
        page the citizen is on."""
        self._rows, self._pages = [], [[]]
        self.ids.pager.on_turn = self.turn
        self._repage_soon = Clock.create_trigger(lambda _dt: self.paginate(keep_page=True), 0.05)
        self.list_box().fbind("size", self._repage_soon)

    def list_box(self):
        """What the list's room is: its MoreBox (the strip under the list taken in, which
        shows only while a page is longer than its room), or the scroll itself."""
        scroll = self.ids.scroll
        return scroll.parent if isinstance(scroll.parent, MoreBox) else scroll

    def paginate(self, keep=None, keep_page: bool = False) -> None:
        """``_rows`` into pages, on the page that holds ``keep`` (or, ``keep_page``, the
        first row of the page shown)."""
        from kivy.core.window import Window

        rows = self._rows
        if keep_page:
            keep = self.kept_row()
        # rows a page before they are measured (or when they cannot be); 0: normal type,
        # every row on one scrolled page
        in_portrait, in_landscape = self.elderly_rows
        portrait = Window.height >= Window.width
        guess = (in_portrait if portrait else in_landscape) if self.terminal.elderly else 0
        # the list's room with the page buttons shown, whether they show now or not
        box, pager = self.list_box(), self.ids.pager
        taken_width, taken_height = self.room_taken()
        width, room = box.width + taken_width, box.height + taken_height
        if pager.parent is box.parent:  # the buttons share the list's box: under it or beside
            if pager.orientation == "horizontal":
                room += pager.height - pager.full_height
            else:
                width += pager.width - pager.full_width
        if guess and width > 100 and room > 0:
            heights = [laid_out_height(r, width) for r in rows]
            pages = pages_by_height(rows, heights, room, self.ids.rows.spacing[1], self.heads)
        else:
            pages = pages_of(rows, guess, self.heads)
        if keep_page and pages == self._pages:  # the same rows on the same pages
            return
        self._pages = pages
        if keep is not None:
            self.page = next((i for i, page in enumerate(pages) if keep in page), 0)
        self.show_page()

    def forget_rows(self) -> None:
        """Nothing of the list stays (the visit is wiped)."""
        self._rows, self._pages, self.page = [], [[]], 0
        self.ids.rows.clear_widgets()

    def show_page(self):
        self.page = max(0, min(self.page, len(self._pages) - 1))
        rows = self.ids.rows
        rows.clear_widgets()
        for row in self._pages[self.page]:
            rows.add_widget(row)
        self.ids.pager.page, self.ids.pager.pages = self.page, len(self._pages)
        self.ids.scroll.scroll_y = 1

    def turn(self, step: int):
        self.terminal.touch()
        self.page += step
        self.show_page()


class MoreScroll(ScrollView):
    """A scrolled list that knows whether it goes on below its view (``more``). It stands
    in a ``MoreBox``, which says so under it, in a strip of its own."""

    more = BooleanProperty(False)  # part of the list lies below the view
    content_height = NumericProperty(0)  # the list's own height (MoreBox compares it)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.fbind("scroll_y", self._more)
        self.fbind("scroll_y", self._effect_follows)
        self.fbind("height", self._more)

    def add_widget(self, widget, *args, **kw):
        super().add_widget(widget, *args, **kw)
        widget.fbind("height", self._more)
        self._more()

    def remove_widget(self, widget, *args, **kw):
        widget.funbind("height", self._more)
        super().remove_widget(widget, *args, **kw)
        self._more()

    def _effect_follows(self, *_):
        """Scrolled by the program (to the field typed in, a page's top), not by a finger:
        the scroll effect takes the new place as its own. Left where it was, the effect put
        the list back there when it next moved (after a tap on a row that made the rows
        again, the form jumped back to the top of the page)."""
        content = self.children[0] if self.children else None
        if (not self._touch and self.effect_y is not None and content is not None
                and content.height > self.height):  # (else nothing scrolls: left alone) # fmt: skip
            self._update_effect_y_bounds()

    def _more(self, *_):
        content = self.children[0] if self.children else None
        self.content_height = content.height if content is not None else 0
        below = (self.content_height - self.height) * self.scroll_y if content is not None else 0
        self.more = below > dp(6)


class MoreBox(BoxLayout):
    """A ``MoreScroll`` and, under it, a strip of its own that says the list goes on below
    ("↑ swipe up for more") for as long as it does: not everyone knows to scroll, and a row
    cut at the view's edge is easily taken for the last.

    The strip is there while the list is longer than the whole box, wherever it is
    scrolled (blank at the end): were it there only while more lies below, the view would
    grow as the last row came into it, and the list jump. Over the list's foot, as it was
    drawn before, the words covered a line of some list wherever they stood (a progress
    list's current stage, a form's label, a number of the contribution record)."""

    strip = NumericProperty(0)  # the strip's height; 0 while the whole list fits (widgets.kv)
    # no strip, no words: the list keeps every line of its room (the form while its keyboard
    # is open: a view of two rows, the field typed in kept in it; a technician's panels)
    quiet = BooleanProperty(False)
    more = BooleanProperty(False)  # the list goes on below its view: the words show
    more_text = StringProperty("")
    more_font_size = NumericProperty(dp(22))
    more_texture = ObjectProperty(None, allownone=True)  # more_text, drawn (widgets.kv)
    scroll = ObjectProperty(None, allownone=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.fbind("height", self._strip)
        self.fbind("quiet", self._strip)
        self.fbind("more_text", self._draw_text)
        self.fbind("more_font_size", self._draw_text)

    def add_widget(self, widget, *args, **kw):
        super().add_widget(widget, *args, **kw)
        if isinstance(widget, MoreScroll):
            self.scroll = widget
            widget.fbind("content_height", self._strip)
            widget.fbind("more", self._strip)
            self._strip()

    def _strip(self, *_):
        scroll, tex = self.scroll, self.more_texture
        longer = not self.quiet and scroll is not None and scroll.content_height > self.height + dp(1)
        self.strip = (tex.height + dp(24) if tex is not None else dp(56)) if longer else 0
        self.more = longer and scroll.more

    def _draw_text(self, *_):
        if not self.more_text:
            self.more_texture = None
        else:
            core = CoreLabel(text=self.more_text, font_size=self.more_font_size, bold=True)
            core.refresh()
            self.more_texture = core.texture
        self._strip()


class CameraPreview(Widget):
    """A camera's live picture (raw RGB, rows top first) fitted inside the widget.
    Subclasses draw their marks over it from ``place`` (face box, page outline)."""

    texture = ObjectProperty(None, allownone=True)
    image_pos = ListProperty([0, 0])
    image_size = ListProperty([0, 0])
    ok = BooleanProperty(False)  # what was found is usable: marked green, else amber
    progress = NumericProperty(0.0)  # how far the hold before taking it has got, 0..1
    _marks = ()  # what was found (a face box, a page's corners), in the picture's pixels

    def on_texture(self, *_):
        self._fit()

    def on_size(self, *_):
        self._fit()

    def on_pos(self, *_):
        self._fit()

    def show(self, frame, marks) -> None:
        """Draw one raw-RGB frame (rows top first) and what was found in it."""
        self._marks = tuple(marks) if marks else ()
        self.show_frame(frame)

    def show_frame(self, frame) -> None:
        """Draw one raw-RGB frame: the texture is reused while the size holds."""
        from kivy.graphics.texture import Texture

        size = (frame.width, frame.height)
        tex = self.texture
        if tex is None or tuple(tex.size) != size:
            tex = Texture.create(size=size, colorfmt="rgb")
            tex.flip_vertical()  # the rows come top first; GL draws bottom first
        tex.blit_buffer(frame.data, colorfmt="rgb", bufferfmt="ubyte")
        if tex is not self.texture:
            self.texture = tex
        else:
            self._fit()
            self.canvas.ask_update()

    def clear(self) -> None:
        """Nothing of the picture stays on screen or in the texture."""
        self._marks = ()
        self.texture = None
        self.progress = 0.0
        self.ok = False

    def _fit(self) -> None:
        if self.texture is None:
            self.image_size = [0, 0]
            self.place(0, 0, 0.0, 0)
            return
        tw, th = self.texture.size
        scale = min(self.width / tw, self.height / th) if tw and th else 0
        w, h = tw * scale, th * scale
        x, y = self.x + (self.width - w) / 2, self.y + (self.height - h) / 2
        self.image_pos, self.image_size = [x, y], [w, h]
        self.place(x, y, scale, h)

    def place(self, x: float, y: float, scale: float, height: float) -> None:
        """Put the marks over the picture drawn at (x, y), ``scale`` window pixels a
        picture pixel, ``height`` high (scale 0: no picture)."""
