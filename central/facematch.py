"""Face match (人证比对): is the live photo the person on the photo of record?

The kiosk sends a live photo; the platform compares it with the photo of
record for that ID number using dlib's face-recognition ResNet, which maps a
face to a 128-d embedding where photos of one person lie within a Euclidean
distance of 0.6 of each other (dlib's published threshold, 99.38% on LFW).

The weights come from the ``face_recognition_models`` package (installed from
PyPI, nothing is downloaded at run time) and dlib from the prebuilt
``dlib-bin`` wheel. The model files are found by path without importing
``face_recognition_models``: its ``__init__`` needs ``pkg_resources``, which
newer setuptools no longer ship.

A picture that cannot be used raises a :class:`FaceMatchError` whose
``message_key`` tells the citizen what to change: ``face.none`` and
``face.several`` (the keys the kiosk's own capture check uses) or
``face.image_unreadable``; a missing or broken model raises :class:`FaceModelError`
(a server fault, not the citizen's).

Cost: about 0.25 s of one core per photo (decoding, detection on a copy at
most 1024 px on its long side, then the embedding), so about 0.5 s a
comparison (tests/bench/bench_facematch.py); the models take about 1 s to
load, once, on first use or on :meth:`FaceMatcher.load`. Calls on one matcher
run one at a time: dlib's network keeps per-call state in the object, and
dlib does not promise thread safety (today its bindings hold the GIL anyway,
so a lock costs nothing). For more throughput, run several processes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.errors import CaptureRejected, KioskError

MODEL = "dlib_face_recognition_resnet_model_v1"
DEFAULT_THRESHOLD = 0.6
ACCEPTED_FORMATS = ("JPEG", "PNG")
# A phone photo is 12-50 MP; more than this is not a face photo but an attack
# on memory (a decompression bomb), refused before decoding.
MAX_PIXELS = 50_000_000
# Detection runs on a copy scaled to this long side: the HOG detector's cost
# grows with the pixel count, and its smallest face (about 80 px) is then 8%
# of the long side; if none is found, one 2x upsample finds faces down to 4%.
DETECT_SIDE = 1024
# A second face at least this share of the main face's width is another
# person in front of the camera; a smaller one is far behind (same rule as
# the kiosk's capture check in peripherals/camera/face.py).
SECOND_FACE_SHARE = 0.5


class FaceMatchError(CaptureRejected):
    """This picture cannot be compared; ``photo`` says which ("record" or "live")."""

    message_key = "face.unusable"

    def __init__(self, detail: str = "", *, photo: str = "") -> None:
        super().__init__(detail)
        self.photo = photo


class ImageUnreadable(FaceMatchError):
    """The bytes are not a JPEG or PNG image that decodes (or it is absurdly large)."""

    message_key = "face.image_unreadable"


class NoFace(FaceMatchError):
    """No face was found in the picture."""

    message_key = "face.none"


class SeveralFaces(FaceMatchError):
    """More than one person's face is in the picture; ``faces`` says how many."""

    message_key = "face.several"

    def __init__(self, detail: str = "", *, faces: int = 2, photo: str = "") -> None:
        super().__init__(detail, photo=photo)
        self.faces = faces


class FaceModelError(KioskError):
    """dlib or the model files are missing or broken: the platform's fault, not the photo's."""

    message_key = "face.model_unavailable"


@dataclass(frozen=True)
class MatchResult:
    """``distance`` is the score (lower is more alike); ``match`` is ``distance <= threshold``."""

    match: bool
    distance: float
    threshold: float
    model: str

    @property
    def similarity(self) -> float:
        """0..1 for people: 1 is identical, 0.5 exactly at the threshold, 0 at twice it."""
        return max(0.0, min(1.0, 1.0 - self.distance / (2.0 * self.threshold)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "distance": round(self.distance, 4),
            "similarity": round(self.similarity, 4),
            "threshold": self.threshold,
            "model": self.model,
        }


def models_dir() -> Path:
    """Where the installed ``face_recognition_models`` keeps its .dat files.

    :raises FaceModelError: the package is not installed.
    """
    # find_spec locates the package without running its __init__ (pkg_resources).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError("face_recognition_models is not installed (pip install it)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class _Models:
    """The three dlib objects; built only by FaceMatcher under its lock."""

    def __init__(self, directory: Path) -> None:
        try:
            import dlib
        except ImportError as err:
            raise FaceModelError("dlib is not installed (pip install dlib-bin)") from err
        landmarks = directory / "shape_predictor_5_face_landmarks.dat"
        resnet = directory / f"{MODEL}.dat"
        for path in (landmarks, resnet):
            if not path.is_file():
                raise FaceModelError(f"model file missing: {path}")
        try:
            self.detector = dlib.get_frontal_face_detector()
            self.landmarks = dlib.shape_predictor(str(landmarks))
            self.net = dlib.face_recognition_model_v1(str(resnet))
        except RuntimeError as err:  # dlib raises RuntimeError on a corrupt file
            raise FaceModelError(f"model files in {directory} do not load: {err}") from err
        self.rectangle = dlib.rectangle


def decode(image_bytes: bytes) -> np.ndarray:
    """JPEG or PNG bytes as an upright RGB uint8 array (EXIF rotation applied).

    :raises ImageUnreadable: not an accepted format, corrupt, truncated or too large.
    """
    from PIL import Image, ImageOps

    if not image_bytes:
        raise ImageUnreadable("empty image")
    try:
        with Image.open(io.BytesIO(image_bytes), formats=ACCEPTED_FORMATS) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageUnreadable(f"image too large: {img.width}x{img.height}")
            upright = ImageOps.exif_transpose(img)
            return np.asarray(upright.convert("RGB"))
    except ImageUnreadable:
        raise
    # Untrusted bytes: Pillow's decoders raise many types (OSError, ValueError,
    # SyntaxError, DecompressionBombError...); all mean "this is not a usable image".
    except Exception as err:
        raise ImageUnreadable(f"image does not decode: {type(err).__name__}") from err


class FaceMatcher:
    """Compares faces with dlib's ResNet embeddings; thread-safe, models loaded once, lazily.

    >>> matcher = FaceMatcher()
    >>> result = matcher.compare(record_jpeg, live_jpeg)
    >>> result.match, result.distance, result.threshold
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, *, model_dir: Path | None = None):
        if not 0.0 < threshold < 2.0:
            raise ValueError(f"threshold {threshold} outside (0, 2)")
        self.threshold = threshold
        self.model = MODEL
        self._model_dir = model_dir
        self._models: _Models | None = None
        # One lock for loading (once) and for every dlib call: dlib's network
        # holds per-call state and dlib does not promise thread safety.
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the models now (about 1 s) rather than on the first comparison.

        :raises FaceModelError: dlib or the model files are missing or broken.
        """
        with self._lock:
            self._loaded()

    def _loaded(self) -> _Models:
        if self._models is None:
            self._models = _Models(self._model_dir or models_dir())
        return self._models

    def embed(self, image_bytes: bytes) -> np.ndarray:
        """The 128-d embedding of the one face in a JPEG or PNG photo.

        :raises ImageUnreadable: the bytes do not decode.
        :raises NoFace: no face found.
        :raises SeveralFaces: more than one face of comparable size.
        :raises FaceModelError: the model cannot be loaded.
        """
        rgb = decode(image_bytes)  # outside the lock: decoding needs no model
        with self._lock:
            return self._embed(self._loaded(), rgb)

    def _embed(self, models: _Models, rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        scale = DETECT_SIDE / max(height, width)
        small = rgb if scale >= 1.0 else _resize(rgb, scale)
        if small is rgb:
            scale = 1.0
        boxes = models.detector(small, 0) or models.detector(small, 1)
        if not boxes:
            raise NoFace("no face found")
        widths = [box.width() for box in boxes]
        main = max(range(len(boxes)), key=widths.__getitem__)
        near = sum(1 for w in widths if w >= SECOND_FACE_SHARE * widths[main])
        if near > 1:
            raise SeveralFaces(f"{near} faces found", faces=near)
        box = boxes[main]
        # Landmarks and the embedding use the full-resolution photo.
        full = models.rectangle(
            round(box.left() / scale),
            round(box.top() / scale),
            round(box.right() / scale),
            round(box.bottom() / scale),
        )
        shape = models.landmarks(rgb, full)
        return np.array(models.net.compute_face_descriptor(rgb, shape), dtype=np.float64)

    def compare_embeddings(self, record: np.ndarray, live: np.ndarray) -> MatchResult:
        """Decide on two embeddings from :meth:`embed` (e.g. a cached record embedding)."""
        distance = float(np.linalg.norm(np.asarray(record) - np.asarray(live)))
        return MatchResult(distance <= self.threshold, distance, self.threshold, self.model)

    def compare(self, record_photo: bytes, live_photo: bytes) -> MatchResult:
        """Is the live photo the same person as the photo of record?

        Blocking, about 0.5 s of one core: from asyncio use :meth:`compare_async`.

        :raises FaceMatchError: (ImageUnreadable, NoFace, SeveralFaces) with
            ``photo`` set to "record" or "live".
        :raises FaceModelError: the model cannot be loaded.
        """
        embeddings = []
        for photo, data in (("record", record_photo), ("live", live_photo)):
            try:
                embeddings.append(self.embed(data))
            except FaceMatchError as err:
                err.photo = photo
                raise
        return self.compare_embeddings(*embeddings)

    async def compare_async(self, record_photo: bytes, live_photo: bytes) -> MatchResult:
        """:meth:`compare` in a worker thread, so the event loop keeps serving."""
        return await asyncio.to_thread(self.compare, record_photo, live_photo)


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
