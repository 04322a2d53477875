"""Scanning one material with the document camera (高拍仪): a live picture with the
page outlined, the page taken by itself once it lies still, the count of pages,
"retake last page", and "scan now" for a page the camera will not take by itself.

Pages live in the journey (memory only, wiped with the visit); the picture is
cleared when the screen is left.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.errors import CaptureRejected, KioskError
from kiosk.materials import SteadyPage
from screens.base import CameraScreen
from screens.widgets import CameraPreview

log = logging.getLogger(__name__)

LOOK_PAUSE = 0.08  # seconds between looks (each ~20-40 ms in a worker): a live picture, cheap to draw
HOLD = 1.0  # seconds a page lies still before it is taken


class PagePreview(CameraPreview):
    """The document camera's picture, with the page it found outlined."""

    outline = ListProperty([])  # the page's corners in window-side coordinates: x0, y0, … x3, y3

    def place(self, x, y, scale, height) -> None:
        if self._marks and scale:
            self.outline = [v for cx, cy in self._marks for v in (x + cx * scale, y + height - cy * scale)]
        else:
            self.outline = []


class CaptureScreen(CameraScreen):
    # phase: looking, taking, taken, refused, fault
    title = StringProperty("")
    pages = NumericProperty(0)
    page_names = ListProperty([])  # the material's named pages, in the citizen's language
    complete = BooleanProperty(False)  # each named page taken: nothing more to lay down

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self.code = ""
        self._replace = False  # "retake" from the list: the first page taken replaces the old ones
        self._steady = SteadyPage(hold=HOLD)
        self._told_until = 0.0  # a refusal stays on screen this long before the live guidance
        self._message = ("capture.place", {})
        self._material = None  # the material scanned (kiosk.materials.MaterialItem): _title

    def open_for(self, code: str, replace: bool = False) -> None:
        """Scan material ``code``; with ``replace`` the pages taken now replace the old ones."""
        self.code, self._replace = code, replace

    def on_pre_enter(self, *_):
        j = self.journey
        self.pages = 0 if self._replace else len(j.scan_pages.get(self.code, []))
        self._title()
        self._steady.rearm()
        self.start()

    def _title(self):
        # the material as the bundle lists it (its pages named or not), looked up once a visit
        # to this screen: the camera's loop asks for it several times a second
        self._material = item = next((m for m in self.journey.materials() if m.code == self.code),
                                     None) if self.journey is not None else None  # fmt: skip
        name = item.name.get(self.terminal.language) if item else self.code
        self.page_names = [p.get(self.terminal.language) for p in item.pages] if item else []
        self.title = self.t("capture.title", material=name)

    def retitle(self) -> None:
        self._title()

    def on_pages(self, *_):
        self.complete = bool(self.page_names) and self.pages >= len(self.page_names)

    on_page_names = on_pages

    def _wanted(self):
        """The named page to lay down next (户主页, 本人页; 人像面, 国徽面), or None."""
        item = self._material
        return item.page_wanted(int(self.pages)) if item is not None else None

    NAMED = {"capture.place": "capture.place_page", "capture.hold_still": "capture.hold_still_page"}

    def _named(self, key: str) -> tuple[str, dict[str, str]]:
        """The guidance ``key`` with its values; for a material whose pages are named, the
        one naming the page to lay down (the first one too: found at once, it was only
        "hold still")."""
        page = self._wanted() if key in self.NAMED else None
        if page is None:
            return key, {}
        return self.NAMED[key], {"page": page.get(self.terminal.language)}

    def _guide(self, key: str) -> bool:
        key, values = self._named(key)
        if (self.phase, self._message) == ("looking", (key, values)):
            return False
        self._show("looking", key, **values)
        return True

    def start(self):
        key, values = self._named("capture.place")
        self._show("looking", key, **values)
        # (after a camera fault, the page taken before it and still lying there is not taken again)
        self._begin(self._look())

    async def _look(self):
        preview = self.ids.preview
        try:
            while True:
                look = await self.terminal.look_document()
                if not look.steady and preview.texture is not None:
                    self.terminal.touch()  # hands moving under the camera: somebody is here
                preview.show(look.preview, look.corners)
                page = look.corners is not None
                progress = self._steady.feed(page, look.steady, time.monotonic())
                preview.ok, preview.progress = page and look.steady, progress
                if self.complete:  # an ID card has two sides: a third is not taken
                    pass
                elif progress >= 1.0 and not self.busy:  # not while "scan now" is at work
                    await self._take()
                elif self._steady.armed and time.monotonic() >= self._told_until:
                    self._guide("capture.hold_still" if page else "capture.place")
                await asyncio.sleep(LOOK_PAUSE)
        except asyncio.CancelledError:
            raise
        except KioskError as err:  # the camera is missing or gives no frame
            log.warning("document camera: %s", err.detail)
            self._fault(err)
        except Exception:  # never a frozen screen
            log.exception("document capture failed")
            self._fault("error.generic")

    async def _take(self) -> bool:
        """Scan the page in view now; False (and the citizen told why) when there is none."""
        self._show("taking", "capture.taking")
        await self.drawn()  # "taking the page" on screen before the imaging takes the cores
        try:
            self.pages = await self.terminal.scan_material(self.code, replace=self._replace)
        except CaptureRejected as err:
            self._show("refused", err)
            self._told_until = time.monotonic() + 4.0
            return False
        self._steady.taken()  # this page is not taken again until the picture changes
        self._replace = False
        item, page = self._material, self._wanted()
        if page is not None:  # a named page still to come: which
            self._show("taken", "capture.taken_next", pages=self.pages,
                       page=page.get(self.terminal.language))  # fmt: skip
        elif item is not None and item.pages:  # every named page taken
            self._show("taken", "capture.taken_all", pages=self.pages)
        else:
            self._show("taken", "capture.taken", pages=self.pages)
        asyncio.get_event_loop().create_task(self.terminal.say(self.guidance))  # elderly mode: said aloud
        return True

    def take_now(self):
        """The citizen's own "scan now" (a page the camera does not settle on by itself);
        after a camera fault, the camera tried again."""
        if self.phase == "taking" or self.busy or (self.complete and self.phase != "fault"):
            return
        if self.phase == "fault":
            self.start()
            return
        self.run(self._take())

    def retake_last(self):
        if self.pages and not self._replace:
            self.pages = self.terminal.drop_last_page(self.code)
            self._show("looking", "capture.dropped")
            self._told_until = time.monotonic() + 4.0
            self._steady.rearm()  # the page still lying there may be taken again

    def done(self):
        self._stop_loop()
        self.nav("materials")

    def on_leave(self, *_):
        super().on_leave()  # the loop stopped, the picture cleared
        self.terminal.stop_document_looks()

    def wipe(self) -> None:
        super().wipe()
        self._stop_loop()
        self.code, self._replace, self.pages, self.page_names = "", False, 0, []
        self._material = None

    def spoken(self) -> str:
        return self.title + "。" + (self.guidance or self.t("capture.place"))
