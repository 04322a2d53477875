"""The document camera and the face camera as ``kiosk.ports.Camera`` adapters.

Both wrap an :class:`~peripherals.camera.source.OpenCvCamera`; ``capture()``
returns the finished picture (the straightened scan, or the face crop) as
JPEG, or raises :class:`kiosk.errors.CaptureRejected` with guidance for the
citizen. Blocking: call from a worker thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiosk.errors import CaptureRejected
from kiosk.health import Health
from kiosk.ports import Frame
from peripherals.camera.document import scan_page
from peripherals.camera.face import FaceCheck, FaceRules, check_face
from peripherals.camera.source import CaptureSource, OpenCvCamera, encode


class DocumentCamera:
    """High-shot document camera (高拍仪): capture() gives the page as a scan."""

    def __init__(self, source: CaptureSource | str, name: str = "document_camera") -> None:
        self.camera = OpenCvCamera(source, name)
        self.name = name

    def capture(self) -> Frame:
        """The page in view, straightened to A4 and enhanced, as JPEG.

        :raises CaptureRejected: ``document.no_page`` when no page is in view.
        :raises DeviceError: the camera gives no frame.
        """
        page = scan_page(self.camera.grab())
        if page is None:
            raise CaptureRejected("no page in view", message_key="document.no_page")
        return encode(page, "image/jpeg", quality=85)

    def show(self, image: str | Path | np.ndarray) -> None:
        """Emulator hook: put another picture under a ``file://`` camera."""
        self.camera.show(image)

    def health(self) -> Health:
        return self.camera.health()

    def close(self) -> None:
        self.camera.close()


class FaceCamera:
    """The face camera: capture() gives the checked face crop for the face match."""

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
        self.last_check = check
        if not check.ok or check.jpeg is None:
            raise CaptureRejected(f"face check: {check.reason}", message_key=check.reason or "")
        width, height = check.crop_size or (0, 0)
        return Frame(check.jpeg, width=width, height=height, media_type="image/jpeg")

    def show(self, image: str | Path | np.ndarray) -> None:
        """Emulator hook: put another picture in front of a ``file://`` camera."""
        self.camera.show(image)

    def health(self) -> Health:
        return self.camera.health()

    def close(self) -> None:
        self.camera.close()
