"""The document camera and the face camera as ``kiosk.ports.Camera`` adapters.

Both wrap an :class:`~peripherals.camera.source.OpenCvCamera`; ``capture()``
returns the finished picture (the straightened scan, or the face crop) as
JPEG, or raises :class:`kiosk.errors.CaptureRejected` with guidance for the
citizen. Blocking: call from a worker thread.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from kiosk.errors import CaptureRejected
from kiosk.health import Health
from kiosk.ports import DocumentLook, FaceLook, Frame
from peripherals.camera.document import find_page, is_steady, scan_page
from peripherals.camera.face import FaceCheck, FaceRules, check_face
from peripherals.camera.source import CaptureSource, OpenCvCamera, encode

PREVIEW_WIDTH = 640


def _preview(img: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """``img`` shrunk to at most ``width`` pixels across, and the scale used."""
    h, w = img.shape[:2]
    scale = min(1.0, width / w)
    pw = max(4, int(w * scale) // 4 * 4)  # rows of whole words: GL unpacks them as they come
    scale = pw / w
    ph = max(1, round(h * scale))
    return cv2.resize(img, (pw, ph), interpolation=cv2.INTER_AREA), scale


class DocumentCamera:
    """High-shot document camera (高拍仪): capture() gives the page as a scan."""

    def __init__(self, source: CaptureSource | str, name: str = "document_camera") -> None:
        self.camera = OpenCvCamera(source, name)
        self.name = name
        self._last: np.ndarray | None = None  # the last look's picture, to tell "steady"

    def capture(self) -> Frame:
        """The page in view, straightened to A4 and enhanced, as JPEG.

        :raises CaptureRejected: ``document.no_page`` when no page is in view.
        :raises DeviceError: the camera gives no frame.
        """
        page = scan_page(self.camera.grab())
        if page is None:
            raise CaptureRejected("no page in view", message_key="document.no_page")
        return encode(page, "image/jpeg", quality=85)

    def look(self, preview_width: int = PREVIEW_WIDTH) -> DocumentLook:
        """One frame for the live preview: the page's corners when one is in view, and
        whether the picture held still since the last look (see
        :class:`kiosk.ports.DocumentLook`).

        :raises DeviceError: the camera gives no frame.
        """
        img = self.camera.grab()
        quad = find_page(img)
        small, scale = _preview(img, preview_width)
        steady = is_steady(self._last, small)
        self._last = small
        ph, pw = small.shape[:2]
        corners = None
        if quad is not None:
            corners = tuple((min(pw, max(0, round(x * scale))), min(ph, max(0, round(y * scale))))
                            for x, y in quad)  # fmt: skip
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        preview = Frame(rgb.tobytes(), width=pw, height=ph, media_type="image/x-raw-rgb")
        return DocumentLook(preview, corners=corners, steady=steady)

    def forget(self) -> None:
        self._last = None

    def show(self, image: str | Path | np.ndarray) -> None:
        """Emulator hook: put another picture under a ``file://`` camera."""
        self.camera.show(image)

    def health(self) -> Health:
        return self.camera.health()

    def close(self) -> None:
        self._last = None
        self.camera.close()


class FaceCamera:
    """The face camera (``kiosk.ports.FaceCamera``): capture() gives the checked face
    crop for the face match; look() a live preview with the check's guidance."""

    def __init__(
        self, source: CaptureSource | str, name: str = "face_camera", rules: FaceRules | None = None
    ) -> None:
        self.camera = OpenCvCamera(source, name)
        self.name = name
        self.rules = rules or FaceRules()
        self.last_check: FaceCheck | None = None

    def capture(self) -> Frame:
        """One usable face photo (JPEG, cropped round the face).

        :raises CaptureRejected: ``face.none``, ``face.several``, ``face.partial``,
            ``face.too_small``, ``face.too_dark`` or ``face.blurry``.
        :raises DeviceError: the camera gives no frame.
        """
        check = check_face(self.camera.grab(), self.rules)
        self.last_check = dataclasses.replace(check, jpeg=None)  # the verdict, never the photo
        if not check.ok or check.jpeg is None:
            raise CaptureRejected(f"face check: {check.reason}", message_key=check.reason or "")
        width, height = check.crop_size or (0, 0)
        return Frame(check.jpeg, width=width, height=height, media_type="image/jpeg")

    def look(self, preview_width: int = PREVIEW_WIDTH) -> FaceLook:
        """One frame for the live preview, with the face check's verdict and, when
        usable, the face crop to send (see :class:`kiosk.ports.FaceLook`).

        :raises DeviceError: the camera gives no frame, or the detector is missing.
        """
        img = self.camera.grab()
        check = check_face(img, self.rules)
        self.last_check = dataclasses.replace(check, jpeg=None)
        small, scale = _preview(img, preview_width)
        ph, pw = small.shape[:2]
        rgb = cv2.cvtColor(cv2.flip(small, 1), cv2.COLOR_BGR2RGB)  # mirrored, as a selfie view
        box = None
        if check.box is not None:
            x, y, bw, bh = check.box
            box = (pw - round((x + bw) * scale), round(y * scale), round(bw * scale), round(bh * scale))
        photo = None
        if check.ok and check.jpeg is not None:
            cw, ch = check.crop_size or (0, 0)
            photo = Frame(check.jpeg, width=cw, height=ch, media_type="image/jpeg")
        preview = Frame(rgb.tobytes(), width=pw, height=ph, media_type="image/x-raw-rgb")
        return FaceLook(preview, ok=photo is not None, guidance=check.reason or "", box=box, photo=photo)

    def show(self, image: str | Path | np.ndarray) -> None:
        """Emulator hook: put another picture in front of a ``file://`` camera."""
        self.camera.show(image)

    def health(self) -> Health:
        return self.camera.health()

    def close(self) -> None:
        self.camera.close()
