"""Face capture checks before the photo goes to the platform for the face match.

The kiosk only decides whether a photo is usable: exactly one face, whole,
near enough, lit and sharp. Comparing it with the ID card photo (人证比对) is
the platform's job. Detection uses OpenCV's bundled frontal-face Haar
cascade (shipped inside opencv-python-headless 4.x; nothing is downloaded).

Each refusal is a translation key the screen shows as guidance:
``face.none``, ``face.several``, ``face.partial``, ``face.too_small``
("move closer"), ``face.too_dark``, ``face.blurry``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.errors import DeviceError

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class FaceRules:
    """Thresholds, measured on the test photos in shared/data/faces (see tests)."""

    # Face box width in pixels. Face matching needs about 60 px between the
    # eyes; the eyes are ~0.4 of the cascade's box, so 160 px.
    min_face_px: int = 160
    # A second face at least this fraction of the main face's width counts as
    # another person at the kiosk; smaller ones are far in the background.
    second_face_share: float = 0.5
    # Mean grey level of the face box (0-255). Well-lit faces of dark or light
    # skin measured 114-148; at 30% of the light they measure 34-44.
    min_face_light: float = 50.0
    # With no face found, a frame this dark means "more light", not "no face".
    min_frame_light: float = 30.0
    # Variance of the Laplacian of the contrast-normalised face at 128 px.
    # Sharp photos measured 0.12-0.44; a 2-4 px blur 0.005-0.06.
    min_sharpness: float = 0.07
    # Crop margin around the face box for the photo sent to the platform.
    crop_margin: float = 0.4


@dataclass(frozen=True)
class FaceCheck:
    """The outcome: ``ok`` with the cropped face as JPEG, or a reason key."""

    ok: bool
    reason: str | None = None
    faces: int = 0
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in the input image
    jpeg: bytes | None = None
    crop_size: tuple[int, int] | None = None  # width, height of the JPEG


class FaceDetector:
    """The Haar cascade, loaded on first use (not at import) and used under a lock."""

    WORK_SIZE = 640  # detection runs on a copy this large at most: ~50 ms a frame

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cascade: cv2.CascadeClassifier | None = None

    def _load(self) -> cv2.CascadeClassifier:
        if self._cascade is None:
            cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
            if cascade.empty():
                raise DeviceError(
                    f"OpenCV face detector {CASCADE} missing from the opencv package",
                    message_key="error.camera",
                )
            self._cascade = cascade
        return self._cascade

    def detect(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes in ``gray``'s pixels; a box may reach past the frame edge.

        The frame is padded by repeating its edge pixels, so a face cut off
        by the edge is still found, with a box that sticks out: that is how a
        partial face is told from no face.

        :raises DeviceError: the cascade file is missing.
        """
        h, w = gray.shape
        scale = min(1.0, self.WORK_SIZE / max(h, w))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pad = max(small.shape) // 4
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        with self._lock:
            found = self._load().detectMultiScale(
                padded, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)
            )
        return [
            (int((x - pad) / scale), int((y - pad) / scale), int(fw / scale), int(fh / scale))
            for (x, y, fw, fh) in found
        ]


_detector = FaceDetector()


def _main_faces(boxes, share: float) -> list[tuple[int, int, int, int]]:
    """The largest face and others of comparable size; drops boxes nested in a
    bigger one (the cascade sometimes fires again on the mouth or chin)."""
    boxes = sorted(boxes, key=lambda b: b[2], reverse=True)
    kept: list[tuple[int, int, int, int]] = []
    for x, y, w, h in boxes:
        cx, cy = x + w / 2, y + h / 2
        if any(kx <= cx <= kx + kw and ky <= cy <= ky + kh for kx, ky, kw, kh in kept):
            continue
        if kept and w < share * kept[0][2]:
            continue
        kept.append((x, y, w, h))
    return kept


def _sharpness(face: np.ndarray) -> float:
    f = cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
    f = (f - f.mean()) / (f.std() + 1e-6)  # independent of light and contrast
    return float(cv2.Laplacian(f, cv2.CV_32F).var())


def check_face(
    img: np.ndarray, rules: FaceRules = FaceRules(), detector: FaceDetector | None = None
) -> FaceCheck:
    """Is this frame a usable face photo? Blocking (~50 ms): run in a worker thread.

    :raises DeviceError: the detector's model file is missing.
    """
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    frame_h, frame_w = gray.shape
    faces = _main_faces((detector or _detector).detect(gray), rules.second_face_share)
    if not faces:
        dark = float(gray.mean()) < rules.min_frame_light
        return FaceCheck(False, "face.too_dark" if dark else "face.none")
    if len(faces) > 1:
        return FaceCheck(False, "face.several", faces=len(faces))
    x, y, w, h = box = faces[0]
    if x <= 0 or y <= 0 or x + w >= frame_w or y + h >= frame_h:
        return FaceCheck(False, "face.partial", 1, box)
    if w < rules.min_face_px:
        return FaceCheck(False, "face.too_small", 1, box)
    face = gray[y : y + h, x : x + w]
    if float(face.mean()) < rules.min_face_light:
        return FaceCheck(False, "face.too_dark", 1, box)
    if _sharpness(face) < rules.min_sharpness:
        return FaceCheck(False, "face.blurry", 1, box)
    m = int(rules.crop_margin * w)
    crop = img[max(0, y - m) : y + h + m, max(0, x - m) : x + w + m]
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise DeviceError("could not encode the face photo", message_key="error.camera")
    return FaceCheck(True, None, 1, box, buf.tobytes(), (crop.shape[1], crop.shape[0]))
