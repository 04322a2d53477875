"""Capture sources chosen by a URL in the config, and the Camera port adapter.

=========================  =============================================
``file:///path/a.jpg``     one still image, returned on every read; the
                           file is re-read when it changes on disk, and
                           :meth:`StillImageSource.show` swaps it at run time
``files:///dir/*.jpg``     a sorted sequence; ``?loop=0`` stops at the end
``video:///path/x.mp4``    a video file; ``?loop=1`` rewinds at the end
``v4l2:///dev/video0``     a V4L2 device by path, or ``v4l2://0`` by index
=========================  =============================================

Every read is blocking and belongs in a worker thread. Library failures come
out as :class:`kiosk.errors.DeviceError` with a reason a technician can act on.
"""

from __future__ import annotations

import glob
import threading
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import cv2
import numpy as np

from kiosk.errors import DeviceError
from kiosk.health import Health
from kiosk.ports import Frame

CAMERA_KEY = "error.camera"


class EndOfStream(DeviceError):
    """A file-backed source has no more frames (end of video or sequence)."""

    message_key = CAMERA_KEY


class CaptureSource(Protocol):
    name: str

    def read(self) -> np.ndarray:
        """The next frame, BGR uint8. :raises DeviceError: no frame."""

    def health(self) -> Health: ...

    def close(self) -> None: ...


def _imread(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DeviceError(f"image file missing: {path}", message_key=CAMERA_KEY)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise DeviceError(f"not a readable image: {path}", message_key=CAMERA_KEY)
    return img


class _Tracked:
    """Health bookkeeping shared by the sources: last failure, or fine."""

    name: str
    _fault = ""

    def _failed(self, reason: str, err: type[DeviceError] = DeviceError) -> DeviceError:
        self._fault = reason
        return err(reason, message_key=CAMERA_KEY)

    def health(self) -> Health:
        """ok, or fault with the last failure's reason; never raises."""
        if self._fault:
            return Health.fault(self.name, self._fault, source=self.describe())
        return Health.good(self.name, source=self.describe())

    def describe(self) -> str:
        return type(self).__name__


class StillImageSource(_Tracked):
    """One image shown to the camera, repeated; swap it with :meth:`show`."""

    def __init__(self, path: str | Path, name: str = "camera") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._path = Path(path)
        self._image: np.ndarray | None = None
        self._stamp: tuple[int, int] | None = None

    def describe(self) -> str:
        return f"file {self._path}"

    def show(self, image: str | Path | np.ndarray) -> None:
        """Present another picture to the camera (a path, or a BGR array)."""
        with self._lock:
            if isinstance(image, np.ndarray):
                self._image, self._stamp = image.copy(), None
                self._path = Path("<array>")
            else:
                self._path, self._image, self._stamp = Path(image), None, None
            self._fault = ""

    def read(self) -> np.ndarray:
        """The current image. :raises DeviceError: file missing or unreadable."""
        with self._lock:
            if str(self._path) == "<array>" and self._image is not None:
                return self._image.copy()
            try:
                st = self._path.stat()
            except OSError as err:
                raise self._failed(f"image file missing: {self._path}") from err
            stamp = (st.st_mtime_ns, st.st_size)
            if self._image is None or stamp != self._stamp:
                try:
                    self._image = _imread(self._path)
                except DeviceError as err:
                    raise self._failed(err.detail) from err
                self._stamp = stamp
            self._fault = ""
            return self._image.copy()

    def close(self) -> None:
        with self._lock:
            self._image = None


class ImageSequenceSource(_Tracked):
    """Images matching a glob, in name order; cycles unless ``loop`` is False."""

    def __init__(self, pattern: str, *, loop: bool = True, name: str = "camera") -> None:
        self.name = name
        self.pattern = pattern
        self.loop = loop
        self._lock = threading.Lock()
        self._index = 0

    def describe(self) -> str:
        return f"files {self.pattern}"

    def read(self) -> np.ndarray:
        """The next image. :raises EndOfStream: past the last (no loop); DeviceError."""
        with self._lock:
            paths = sorted(glob.glob(self.pattern))
            if not paths:
                raise self._failed(f"no image files match {self.pattern}")
            if self._index >= len(paths):
                if not self.loop:
                    raise self._failed(f"end of image sequence {self.pattern}", EndOfStream)
                self._index = 0
            path = Path(paths[self._index])
            self._index += 1
            try:
                img = _imread(path)
            except DeviceError as err:
                raise self._failed(err.detail) from err
            self._fault = ""
            return img

    def close(self) -> None:
        pass


STALE_AFTER = 0.5  # seconds without a read after which a device's queued frames are old
QUEUED = 4  # frames a V4L2 driver may hold queued (OpenCV's default request)


class CaptureDeviceSource(_Tracked):
    """cv2.VideoCapture over a video file or a V4L2 device.

    A device that stops giving frames is released and reopened on a later
    read, at most every ``reconnect_interval`` seconds, so a camera that is
    unplugged and plugged back comes back without a restart.

    A device stays open between visits, and its driver keeps the last frames it filled
    while nobody read them: the first frames of the next look would be of the citizen
    before. After ``STALE_AFTER`` s without a read, those are thrown away first (and the
    device is asked to queue one frame only).
    """

    def __init__(
        self,
        target: str | int,
        *,
        is_file: bool,
        loop: bool = False,
        name: str = "camera",
        reconnect_interval: float = 2.0,
    ) -> None:
        self.name = name
        self.target = target
        self.is_file = is_file
        self.loop = loop
        self.reconnect_interval = reconnect_interval
        self._lock = threading.Lock()
        self._cap: cv2.VideoCapture | None = None
        self._next_open = 0.0
        self._ended = False
        self._last_read = 0.0  # monotonic time of the last frame read

    def describe(self) -> str:
        return f"{'video' if self.is_file else 'v4l2'} {self.target}"

    def read(self) -> np.ndarray:
        """The next frame.

        :raises EndOfStream: a video file has ended (and ``loop`` is off).
        :raises DeviceError: cannot open, or the device gave no frame.
        """
        with self._lock:
            if self._ended:
                raise self._failed(f"end of video {self.target}", EndOfStream)
            cap = self._open()
            if not self.is_file and time.monotonic() - self._last_read > STALE_AFTER:
                for _ in range(QUEUED):  # frames queued while nobody looked: not this citizen
                    cap.grab()
            ok, frame = cap.read()
            if not ok and self.is_file and self.loop:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = cap.read()
            if not ok or frame is None:
                self._release()
                if self.is_file:
                    self._ended = True
                    raise self._failed(f"end of video {self.target}", EndOfStream)
                raise self._failed(f"camera {self.target} gave no frame (unplugged?)")
            self._fault = ""
            self._last_read = time.monotonic()
            return frame

    def _open(self) -> cv2.VideoCapture:
        if self._cap is not None:
            return self._cap
        now = time.monotonic()
        if self._fault and now < self._next_open:
            raise DeviceError(self._fault, message_key=CAMERA_KEY)
        self._next_open = now + self.reconnect_interval
        if self.is_file and not Path(str(self.target)).is_file():
            raise self._failed(f"video file missing: {self.target}")
        backend = cv2.CAP_ANY if self.is_file else cv2.CAP_V4L2
        try:
            cap = cv2.VideoCapture(self.target, backend)
        except cv2.error as err:
            raise self._failed(f"cannot open {self.describe()}: {err}") from err
        if not cap.isOpened():
            cap.release()
            raise self._failed(f"cannot open {self.describe()} (missing or busy)")
        if not self.is_file:
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # honoured by V4L2; the drain covers the rest
        self._cap = cap
        return cap

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        with self._lock:
            self._release()


def open_source(url: str, name: str = "camera") -> CaptureSource:
    """Build the capture source a config URL names (see the module docstring).

    Nothing is opened yet: the first :meth:`read` opens the file or device.

    :raises DeviceError: an unknown scheme or a malformed URL.
    """
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    path = unquote(parts.netloc + parts.path)
    loop = query.get("loop")
    if parts.scheme == "file":
        return StillImageSource(path, name=name)
    if parts.scheme == "files":
        return ImageSequenceSource(path, loop=loop != "0", name=name)
    if parts.scheme == "video":
        return CaptureDeviceSource(path, is_file=True, loop=loop == "1", name=name)
    if parts.scheme == "v4l2":
        target: str | int = int(parts.netloc) if parts.netloc.isdigit() else path
        return CaptureDeviceSource(target, is_file=False, name=name)
    raise DeviceError(f"unknown camera source {url!r}", message_key=CAMERA_KEY)


def encode(img: np.ndarray, media_type: str = "image/jpeg", quality: int = 90) -> Frame:
    """A ``kiosk.ports.Frame`` from a BGR or grayscale image."""
    if media_type == "image/png":
        ok, buf = cv2.imencode(".png", img)
    else:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DeviceError("could not encode the captured image", message_key=CAMERA_KEY)
    return Frame(buf.tobytes(), width=img.shape[1], height=img.shape[0], media_type=media_type)


class OpenCvCamera:
    """``kiosk.ports.Camera`` over any capture source: capture() gives encoded bytes."""

    def __init__(
        self, source: CaptureSource | str, name: str = "camera", media_type: str = "image/jpeg"
    ):
        self.name = name
        self.source = open_source(source, name) if isinstance(source, str) else source
        self.media_type = media_type

    def grab(self) -> np.ndarray:
        """The raw BGR frame, for the document and face pipelines. :raises DeviceError:"""
        return self.source.read()

    def capture(self) -> Frame:
        """One frame as JPEG (or PNG). :raises DeviceError: the source gives no frame."""
        return encode(self.grab(), self.media_type)

    def show(self, image: str | Path | np.ndarray) -> None:
        """Emulator/test hook: present another picture to a ``file://`` camera.

        :raises DeviceError: the source is not a still image (a real camera).
        """
        if not isinstance(self.source, StillImageSource):
            raise DeviceError(f"{self.name}: only a file:// source can be shown a picture")
        self.source.show(image)

    def health(self) -> Health:
        """The source's health under this camera's name; never raises."""
        h = self.source.health()
        return Health(self.name, h.state, h.reason, h.details)

    def close(self) -> None:
        self.source.close()
