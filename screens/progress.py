"""Progress query (查询办理进度): the citizen shows the receipt's QR code to the
scanner, or types the number printed on it, and sees the stages from 收件 to
归档 with their dates.

With a card read in this visit, the third tab lists the citizen's own
applications (the platform answers by ID number only for a card this terminal
has just read). Without one, a typed ID number is checked (format and check
digit, in plain words) but shows nothing: the screen says why and what to do.
The rules are the core's (kiosk.query); the scanner is reached through the
terminal, and only while this screen is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ColorProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.config import china_time
from kiosk.errors import DeviceError, PlatformError, PlatformRejected, SessionError
from kiosk.identity import id_number_of
from kiosk.outcomes import Progress
from kiosk.query import (
    NotANumber,
    clean_number,
    matters_line,
    number_from_code,
    progress_view,
    stage_when,
)
from screens.base import KioskScreen
from screens.keyboard import KioskKeyboard

log = logging.getLogger(__name__)
SCANNER_RETRY = 3.0  # seconds between tries while the scanner is unplugged or faulty
COLOURS = {
    "accepted": (0.09, 0.25, 0.52, 1),
    "done": (0.12, 0.54, 0.3, 1),
    "needs_more": (0.85, 0.45, 0.05, 1),
    "refused": (0.75, 0.1, 0.1, 1),
    "pending": (0.09, 0.25, 0.52, 1),
}


class StageItem(BoxLayout):
    """One stage: a dot (done, current or to come), its name, and when it was reached."""

    name = StringProperty("")
    when = StringProperty("")
    state = OptionProperty("future", options=("done", "current", "future"))


class DetailLine(BoxLayout):
    """One line under the headline: a matter (a bullet, its name wrapping beside it,
    not under it), the promised date, what is missing."""

    text = StringProperty("")
    bullet = BooleanProperty(False)


class ProgressScreen(KioskScreen):
    mode = OptionProperty("scan", options=("scan", "number", "id"))
    showing = BooleanProperty(False)  # a result is on screen
    typed = StringProperty("")  # what is typed (a number, or an ID number: wiped on leaving)
    message = StringProperty("")  # what is happening, or what to do (not an error)
    scanner_ok = BooleanProperty(True)
    headline = StringProperty("")
    headline_color = ColorProperty((0.09, 0.25, 0.52, 1))
    number_text = StringProperty("")
    detail = StringProperty("")
    has_card = BooleanProperty(False)  # a card read in this visit: "my applications"

    def __init__(self, terminal, nav, on_finish, **kw):
        self._panels: dict = {}  # filled by on_kv_post, during super().__init__
        self._stage_now = None  # the stage the shown application is at (its list item)
        self._to_stage = Clock.create_trigger(self._show_stage)  # scroll it into view
        self.keyboard: KioskKeyboard | None = None
        super().__init__(terminal, nav, **kw)
        self._on_finish = on_finish
        self._scanning: asyncio.Task | None = None
        self.progress: Progress | None = None
        self.mine: list[Progress] = []

    def on_kv_post(self, *_):
        # ids are weak references: keep the panels alive while they are off screen
        self._panels = {
            name: self.ids[f"{name}_panel"].__self__ for name in ("scan", "type", "mine", "result")
        }
        self._show_panel()
        # the stages' view laid out anew (the result shown, the type made larger): the
        # application's stage into view again
        self.ids.stages_scroll.fbind("size", self._to_stage)
        self.ids.stages_scroll.fbind("pos", self._to_stage)

    # -- entering and leaving ------------------------------------------------------
    def on_pre_enter(self, *_):
        session = self.terminal.session
        self.has_card = bool(session is not None and id_number_of(session.card))
        self.reset("scan")

    def on_enter(self, *_):
        if self._scanning is None or self._scanning.done():
            self._scanning = asyncio.get_event_loop().create_task(self._scan_loop())

    def on_leave(self, *_):
        super().on_leave()
        if self._scanning is not None:
            self._scanning.cancel()
            self._scanning = None
        self.reset("scan")  # a typed ID number never stays on screen

    def reset(self, mode: str):
        self.mode, self.showing, self.progress = mode, False, None
        self.detail = ""
        self.ids.detail_lines.clear_widgets()
        self.mine = []
        self.ids.mine_list.clear_widgets()
        self.error = self.message = ""
        if self.keyboard is not None:
            self.keyboard.press("key:clear")
        self.typed = ""
        self._show_panel()

    def choose(self, mode: str):
        """A tab: scan the receipt, type its number, or "my applications" (by the ID card
        read in this visit; without one, what to do: lay it on the reader, nothing typed:
        an ID number alone shows nobody's applications)."""
        self.terminal.touch()
        self.reset(mode)
        if mode == "id" and self.has_card:
            self.message = self.t("progress.looking")
            self.run(self._mine())
        elif mode == "id":
            self.message = self.t("progress.mine_needs_card")

    def card_read(self) -> None:
        """A card was laid on the reader while "my applications" asked for it: show them."""
        self.has_card = True
        self.choose("id")

    def on_mode(self, *_):
        self._show_panel()

    def on_showing(self, *_):
        self._show_panel()

    def _show_panel(self):
        if not self._panels:
            return
        if self.showing:
            name = "result"
        elif self.mode == "id":
            name = "mine"
        else:
            name = "scan" if self.mode == "scan" else "type"
        body = self.ids.body
        if self._panels[name].parent is not body:
            body.clear_widgets()
            body.add_widget(self._panels[name])
        if name == "type":
            self.ensure_keyboard()

    def ensure_keyboard(self) -> KioskKeyboard:
        if self.keyboard is None:
            self.keyboard = KioskKeyboard(on_activity=lambda *_: self.terminal.touch(),
                                          on_done=lambda *_: self.lookup())  # fmt: skip
            self.keyboard.bind(text=lambda _k, text: setattr(self, "typed", text))
            self.keyboard.modes = ["letters", "digits"]  # an acceptance number: AF2026…
            self.keyboard.mode = "letters"
            self.ids.keyboard_area.add_widget(self.keyboard)
        return self.keyboard

    # -- looking up ------------------------------------------------------------------
    def lookup(self):
        """Look up the acceptance number typed."""
        self.error = self.message = ""
        try:
            number = clean_number(self.typed)
        except NotANumber as err:
            self.error = self.t(err.message_key)
            return
        self.query(number)

    def query(self, number: str):
        self.message = self.t("progress.looking")
        self.run(self._query(number))

    async def _query(self, number: str):
        found = await self._ask(self.terminal.progress(number),
                                lambda err: "progress.not_found" if err.status == 404 else "",
                                number=number)  # fmt: skip
        if found is not None:
            self.show(found)

    async def _mine(self):
        """The citizen's own applications, by the card read in this visit."""
        try:
            found = await self._ask(self.terminal.my_applications(),
                                    lambda err: "progress.card_again" if err.status == 403 else "")  # fmt: skip
        except SessionError:  # the visit ended meanwhile
            return
        if found is not None:
            self.mine = found
            self.message = "" if found else self.t("progress.mine_none")
            self.fill_mine()

    async def _ask(self, call, refused, **values):
        """What the platform answers ``call``, or None with the error shown: ``refused(err)``
        names the message for a refusal ("" for the network one, as when unreachable)."""
        try:
            found = await call
        except PlatformRejected as err:
            self.message = ""
            self.error = self.t(refused(err) or "progress.offline", **values)
            return None
        except (PlatformError, DeviceError) as err:
            log.warning("progress not looked up: %s", err.detail)
            self.message = ""
            self.error = self.t("progress.offline")
            return None
        self.message = ""
        return found

    def fill_mine(self):
        from kivy.factory import Factory

        rows = self.ids.mine_list
        rows.clear_widgets()
        for p in self.mine:
            view = progress_view(p, self.terminal.catalog, self.terminal.language)
            matters = matters_line(view, self.terminal.language)
            sent = next((china_time(s.at).date().isoformat() for s in view.stages if s.at), "")
            head = f"{self.t(f'progress.status.{view.status}')}  {view.number}"
            since = self.t("progress.mine_since", date=sent) if sent else ""
            item = Factory.MineItem(
                text=f"{head}  {since}\n{matters}" if since else f"{head}\n{matters}",
                action=f"mine:{view.number}",
            )
            item.bind(on_release=lambda _b, p=p: self.open_mine(p))
            rows.add_widget(item)

    def open_mine(self, progress: Progress):
        self.terminal.touch()
        self.show(progress)

    def show(self, progress: Progress):
        self.progress = progress
        self.error = self.message = ""
        self.fill()
        self.showing = True

    def fill(self):
        p = self.progress
        if p is None:
            return
        view = progress_view(p, self.terminal.catalog, self.terminal.language)
        status = view.status
        self.headline = self.t(f"progress.status.{status}")
        self.headline_color = COLOURS[status]
        self.number_text = self.t("progress.number", number=view.number)
        self.detail = "\n".join(view.lines)
        lines = self.ids.detail_lines
        lines.clear_widgets()
        for line in view.lines:
            bullet = line.startswith("·")
            lines.add_widget(DetailLine(text=line.removeprefix("·").strip() if bullet else line, bullet=bullet))
        stages = self.ids.stages
        stages.clear_widgets()
        steps = list(view.stages)
        if stages.cols == 2:  # two columns read down, 1-4 then 5-8: fill the grid row by row
            half = (len(steps) + 1) // 2
            steps = [x for pair in zip(steps[:half], steps[half:], strict=False) for x in pair]
        now = None
        for line in steps:
            when = stage_when(line, view.status, self.terminal.language)
            state = "current" if line.current else ("done" if line.reached else "future")
            item = StageItem(name=self.t(f"stage.{line.stage.value}"), when=when, state=state)
            stages.add_widget(item)
            if line.current:
                now = item
        self.ids.stages_scroll.scroll_y = 1
        # where the application stands, in view (not under the fold): each time the stage
        # is laid out (its place in the list changes only then, not as the list scrolls)
        self._stage_now = now
        if now is not None:
            now.fbind("pos", self._to_stage)
            self._to_stage()

    def _show_stage(self, *_) -> None:
        scroll, item = self.ids.stages_scroll, self._stage_now
        if item is not None and item in self.ids.stages.children and self.showing:
            scroll.scroll_to(item, padding=8, animate=False)

    def wipe(self) -> None:
        super().wipe()
        self._stage_now = None
        self.has_card = False
        self.reset("scan")  # the citizen's own applications leave with them

    def again(self):
        if self.mode == "id" and self.mine:  # back to the citizen's list, not asked again
            self.progress, self.showing = None, False
            self.error = self.message = ""
            return
        self.choose(self.mode)

    # -- the scanner ---------------------------------------------------------------------
    async def _scan_loop(self):
        """While this screen is up, a receipt shown to the scanner is looked up at once (one
        shown before it came up, perhaps by the last citizen, is not)."""
        with contextlib.suppress(DeviceError):
            await self.terminal.forget_codes()
        while True:
            try:
                code = await self.terminal.read_code(0.5)
            except DeviceError as err:
                if self.scanner_ok:
                    log.warning("code scanner unavailable: %s", err.detail)
                self.scanner_ok = False
                await asyncio.sleep(SCANNER_RETRY)
                continue
            self.scanner_ok = True
            if code is None:
                continue
            self.terminal.touch()
            try:
                number = number_from_code(code)
            except NotANumber as err:
                self.message = ""
                self.error = self.t(err.message_key)
                continue
            self.query(number)

    # -- the rest ---------------------------------------------------------------------
    def back(self):
        self.nav("home")

    def finish(self):
        self._on_finish()

    def relanguage(self) -> None:
        self.fill()
        self.fill_mine()
        if self.mode == "id" and not self.has_card:  # what to do, in the language chosen
            self.message = self.t("progress.mine_needs_card")

    def spoken(self) -> str:
        return self.t("progress.scan_hint")
