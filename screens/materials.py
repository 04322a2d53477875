"""One set of materials: waived items say why; the rest are scanned with the
document camera or, where the law allows, deferred (容缺) with a signed promise."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.graphics import Color, InstructionGroup, PopMatrix, PushMatrix, SmoothLine, Translate
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.i18n import listed_texts
from kiosk.materials import MaterialStatus
from kiosk.session import State
from screens.base import KioskScreen
from screens.widgets import BigButton, PagedRows


class MaterialRow(BoxLayout):
    title = StringProperty("")
    status = StringProperty("")
    waived = BooleanProperty(False)
    done = BooleanProperty(False)


class SignaturePad(Widget):
    """The citizen signs with a finger; strokes are drawn as they go.

    Strokes are kept in the pad's own coordinates (a translation follows the pad), so
    a pad that moves as the screen lays out again (large type turned on) keeps the
    signature where it was written, and the exported image holds all of it. Its size
    is fixed: a pad that shrank would cut the signature."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.length = 0.0
        with self.canvas:
            PushMatrix()
            self._origin = Translate(*self.pos)
            self._ink = InstructionGroup()
            PopMatrix()
        self.bind(pos=self._moved)

    def _moved(self, *_):
        self._origin.xy = self.pos

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos):
            return False
        self._ink.add(Color(0.05, 0.1, 0.3, 1))
        touch.ud["line"] = SmoothLine(points=[touch.x - self.x, touch.y - self.y], width=2.5)
        self._ink.add(touch.ud["line"])
        touch.grab(self)
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is self and "line" in touch.ud and self.collide_point(*touch.pos):
            px, py = touch.ud["line"].points[-2:]
            x, y = touch.x - self.x, touch.y - self.y
            touch.ud["line"].points += [x, y]
            self.length += abs(x - px) + abs(y - py)
            return True
        return False

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
            return True
        return False

    @property
    def signed(self) -> bool:
        return self.length > 60

    def clear(self):
        self._ink.clear()
        self.length = 0.0

    def png(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.export_as_image().save(buf, fmt="png")
        return buf.getvalue()


class MaterialsScreen(PagedRows, KioskScreen):
    hint = StringProperty("")
    pad = ObjectProperty(None, allownone=True)  # the signature pad, while a material is deferred
    side_by_side = BooleanProperty(False)  # the pad beside the list (landscape; set in .kv)
    elderly_rows = (4, 2)  # materials a page in elderly mode before the list is measured

    def __init__(self, terminal, nav, **kw):
        self._promise = None  # the words over the signature pad
        self._sign_again = None  # its button, in the row under it
        super().__init__(terminal, nav, **kw)
        terminal.subscribe(self._on_terminal)

    def _on_terminal(self, what: str):
        if what == "elderly" and self.manager is not None and self.manager.current == self.name:
            self.refresh()  # fewer, larger rows a page (or all of them again)

    def on_kv_post(self, *_):
        self.watch_list()

    def relanguage(self) -> None:
        self.hint = self.t("materials.place_page")
        self.refresh()
        if self._promise is not None:
            self._promise.text = self._promise_text()
        if self._sign_again is not None:
            self._sign_again.text = self.t("materials.sign_clear")

    def on_pre_enter(self, *_):
        self.hint = self.t("materials.place_page")
        self.page = 0
        self.refresh()

    def refresh(self):
        j, lang = self.journey, self.terminal.language
        shown: list[MaterialRow] = []
        today = self.terminal.today()
        outstanding = j.outstanding()
        next_up = outstanding[0].code if outstanding else None
        target = None
        for item in j.materials():
            row = MaterialRow(title=item.name.get(lang), waived=item.waived, done=item.waived)
            if item.status is MaterialStatus.ECERT:
                row.status = self.t("materials.waived_ecert")
            elif item.status is MaterialStatus.PRODUCED:
                matter = self.terminal.catalog.matters.get(item.produced_by)
                row.status = self.t("materials.waived_produced",
                                    matter=matter.name.get(lang) if matter else item.produced_by)
            elif item.code in j.scan_pages and (page := j.page_wanted(item)) is not None:
                # some of its named pages taken: which is still to come, and on with it
                row.status = self.t("materials.page_wanted", pages=len(j.scan_pages[item.code]),
                                    page=page.get(lang))  # fmt: skip
                row.ids.buttons.add_widget(
                    self._button(f"scan:{item.code}", "materials.scan_more", item.code))
            elif item.code in j.scan_pages:
                row.done = True
                row.status = "✓ " + self.t("materials.scanned", pages=len(j.scan_pages[item.code]))
                row.ids.buttons.add_widget(
                    self._button(f"rescan:{item.code}", "materials.rescan", item.code, replace=True))
            elif item.code in j.deferred_codes:
                row.done = True
                row.status = self.t("materials.deferred", due=j.defer_due(today).isoformat())
                row.ids.buttons.add_widget(self._button(f"scan:{item.code}", "materials.scan", item.code))
            else:
                row.ids.buttons.add_widget(self._button(f"scan:{item.code}", "materials.scan", item.code))
                if item.deferrable:
                    row.ids.buttons.add_widget(BigButton(
                        action=f"defer:{item.code}", text=self.t("materials.defer"),
                        size_hint=(None, None), width=240, bg_color=(0.85, 0.33, 0.1, 1),
                        on_release=lambda _w, c=item.code: self.defer(c)))
            shown.append(row)
            if item.code == next_up:
                target = row
        self.show_signature(bool(j.deferred_codes))
        if self._promise is not None:  # what the signature promises, named beside it
            self._promise.text = self._promise_text()
        # elderly mode: a few larger rows a page, turned to the next one to scan
        self._rows = shown
        self.paginate(keep=target)
        if target is not None:  # bring the next material to scan into view
            Clock.schedule_once(lambda _dt: self.bring_into_view(target), 0)

    def bring_into_view(self, row):
        scroll = self.ids.scroll
        if row.parent is self.ids.rows and self.ids.rows.height > scroll.height:  # only when the list does not fit
            scroll.scroll_to(row, padding=20, animate=False)

    def _button(self, action: str, key: str, code: str, replace: bool = False) -> BigButton:
        return BigButton(action=action, text=self.t(key), size_hint=(None, None), width=200,
                         on_release=lambda _w: self.scan(code, replace))

    def show_signature(self, needed: bool):
        """The pad to sign the promise on, under what it promises (the deferred materials
        by name and their date: the list may have scrolled them away), with a button to
        start the signature again."""
        area = self.ids.sign_area
        if needed and self.pad is None:
            from kivy.factory import Factory

            self._promise = Factory.Body(text=self._promise_text())
            area.add_widget(self._promise)
            self.pad = SignaturePad()
            area.add_widget(self.pad)
            # "sign again" in the row of buttons under it, between 返回 and 下一步: not over
            # the pad, where it hid the end of a stroke and a tap there cleared a signature,
            # nor under it, where landscape large type has no room
            self._sign_again = BigButton(action="sign_again", text=self.t("materials.sign_clear"),
                                         size_hint_x=0.45, bg_color=(0.45, 0.49, 0.56, 1),
                                         on_release=lambda _w: self.sign_again())  # fmt: skip
            self.ids.nav.add_widget(self._sign_again, index=1)
        elif not needed and self.pad is not None:
            self._drop_signature()

    def _promise_text(self) -> str:
        j, lang = self.journey, self.terminal.language
        names = [i.name.get(lang) for i in j.materials() if i.code in j.deferred_codes]
        return self.t("materials.sign", due=j.defer_due(self.terminal.today()).isoformat(),
                      names=listed_texts(names, lang))  # fmt: skip

    def sign_again(self) -> None:
        if self.pad is not None:
            self.terminal.touch()
            self.pad.clear()

    def scan(self, code: str, replace: bool = False):
        """Open the document camera's screen for this material (its pages replaced with ``replace``)."""
        self.manager.get_screen("capture").open_for(code, replace=replace)
        self.nav("capture")

    def defer(self, code: str):
        from kiosk.errors import KioskError

        try:
            self.journey.defer(code, self.terminal.now())
        except KioskError as err:
            self.error = self.t(err.message_key)
            return
        self.refresh()

    def done(self):
        j = self.journey
        if j.deferred_codes:
            if self.pad is None or not self.pad.signed:
                self.error = self.t("materials.sign_needed")
                return
            j.signature = self.pad.png()
        left = j.materials_done(self.terminal.now())
        if left:  # named: "2 still missing" sends a citizen hunting down the list
            lang = self.terminal.language
            self.error = self.t("materials.left",
                                names=listed_texts([i.name.get(lang) for i in left], lang))
            return
        self.nav("review")

    def back(self):
        self.terminal.session.go(State.FORM, self.terminal.now())
        self.nav("form")

    def on_leave(self, *_):
        super().on_leave()
        if self.manager is None or self.manager.current != "capture":
            self._drop_signature()  # off to scan a page, the signature already made stays

    def wipe(self) -> None:
        super().wipe()
        self.forget_rows()  # nothing of this visit's list (what was scanned, deferred) stays
        self._drop_signature()

    def _drop_signature(self) -> None:
        self.ids.sign_area.clear_widgets()
        if self._sign_again is not None:
            self.ids.nav.remove_widget(self._sign_again)
        self.pad = self._promise = self._sign_again = None

    def spoken(self) -> str:
        return self.t("materials.title")
