"""Face check (人证比对): a live camera preview with guidance, the photo taken by
itself once a good face holds still, then compared by the platform.

Three refusals and a member of staff is offered. The photo is never kept:
the preview is cleared when the screen is left, and the photo lives only
until the platform has answered.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kivy.clock import Clock
from kivy.properties import ListProperty, StringProperty

from kiosk.errors import KioskError, PlatformRejected
from kiosk.face import MAX_ATTEMPTS, FaceVerdict, SteadyFace, face_matters
from screens.base import CameraScreen
from screens.widgets import CameraPreview

log = logging.getLogger(__name__)

LOOK_PAUSE = 0.05  # seconds between looks: the check itself takes ~50-150 ms in a worker
RETAKE_KEYS = ("face.none", "face.several", "face.image_unreadable", "face.unusable")
MATCHED_PAUSE = 1.2  # seconds "confirmed" stays on screen before the visit goes on
SPEAK_EVERY = 4.0  # elderly mode: at most one spoken hint this often


class FacePreview(CameraPreview):
    """The face camera's picture, with the face outlined."""

    box = ListProperty([])  # the face, in window-side coordinates: x, y, w, h

    def place(self, x, y, scale, height) -> None:
        if self._marks and scale:
            fx, fy, fw, fh = self._marks
            self.box = [x + fx * scale, y + height - (fy + fh) * scale, fw * scale, fh * scale]
        else:
            self.box = []


class FaceScreen(CameraScreen):
    # phase: looking, checking, matched, retry, staff, called, fault
    why = StringProperty("")
    then = "form"  # where the visit goes once the face has matched

    def __init__(self, terminal, nav, **kw):
        super().__init__(terminal, nav, **kw)
        self._paused = False
        self._spoken_at = 0.0
        self._spoken = ""
        self._message = ("face.opening", {})

    def on_pre_enter(self, *_):
        self._explain()
        self.start()

    def _explain(self):
        lang = self.terminal.language
        catalog, j = self.terminal.catalog, self.journey
        names = [catalog.matters[m].name.get(lang) for m in face_matters(catalog, j.plan().matters)]
        # a list of names that are capitalised and may hold commas: semicolons in English
        self.why = self.t("face.why", matters=("、" if lang == "zh" else "; ").join(names))

    def retitle(self) -> None:
        self._explain()

    def start(self):
        """Open the camera and look for a good, steady face."""
        self._show("looking", "face.opening")
        self._begin(self._look())

    async def _look(self):
        steady = SteadyFace()
        preview = self.ids.preview
        try:
            while True:
                look = await self.terminal.look_face()
                preview.show(look.preview, look.box)
                # The kiosk waits while someone is in front of it, not when they have gone.
                self._hold(look.box is not None)
                preview.ok = look.ok
                preview.progress = steady.feed(look.ok, look.box, time.monotonic())
                self._guide(look.guidance or "face.hold_still")
                if preview.progress >= 1.0 and look.photo is not None:
                    await self._check(look.photo)
                    return
                await asyncio.sleep(LOOK_PAUSE)
        except asyncio.CancelledError:
            raise
        except KioskError as err:  # the camera is missing or gives no frame
            log.warning("face camera: %s", err.detail)
            self._fault(err)
        except Exception:  # never a frozen screen
            log.exception("face check failed")
            self._fault("error.generic")
        finally:
            self._hold(False)

    async def _check(self, photo):
        self._show("checking", "face.checking")
        self._hold(True)
        try:
            answer = await self.terminal.match_face(photo)
        except PlatformRejected as err:
            # the photo, not the person: take another; else (no photo of record) staff help
            self._show("retry" if err.message_key in RETAKE_KEYS else "staff", err)
            return
        except KioskError as err:
            log.warning("face match: %s", err.detail)
            self._fault(err)
            return
        finally:
            del photo
            self._hold(False)
        preview = self.ids.preview
        preview.progress = 0.0
        if answer is FaceVerdict.MATCHED:
            self._show("matched", "face.matched")
            Clock.schedule_once(lambda _dt: self._go_on(), MATCHED_PAUSE)
        elif answer is FaceVerdict.RETRY:
            preview.ok = False  # not a face the kiosk can take as the citizen's
            left = MAX_ATTEMPTS - self.terminal.session.face_attempts
            self._show("retry", "face.not_matched", left=left)
        else:
            preview.ok = False
            self._show("staff", "face.staff")
        self._speak(self.guidance)

    def _go_on(self):
        current = self.manager is not None and self.manager.current == self.name
        if current and self.phase == "matched":
            self.nav(self.then)

    def _guide(self, key: str) -> bool:
        changed = super()._guide(key)
        if changed:
            self._speak(self.guidance)
        return changed

    def _speak(self, text: str):
        now = time.monotonic()
        if not self.terminal.elderly or text == self._spoken or now - self._spoken_at < SPEAK_EVERY:
            return
        self._spoken, self._spoken_at = text, now
        asyncio.get_event_loop().create_task(self.terminal.say(text))

    def _hold(self, busy: bool):
        """Pause the inactivity clock while a face is in view or being compared."""
        if busy != self._paused:
            self._paused = busy
            self.terminal.pause(busy)

    def ask_staff(self):
        self.run(self._ask_staff())

    async def _ask_staff(self):
        try:
            await self.terminal.call_staff(self.name)
        except KioskError as err:  # the platform is away: say where help is instead
            log.warning("help request not delivered: %s", err.detail)
            key, values = self.terminal.call_failed()
            self._show("staff", key, **values)
            return
        self._show("called", "staff.called")

    def back(self):
        self._stop_loop()
        question = self.journey.back(self.terminal.now())
        self.nav("question" if question else "home")

    def on_leave(self, *_):
        super().on_leave()  # the loop stopped, the picture cleared
        self._hold(False)

    def spoken(self) -> str:
        return self.t("face.title") + "。" + self.t("face.look")
