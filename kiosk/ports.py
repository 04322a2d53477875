"""The ports: the small interfaces the core needs from the outside world.

Each has a real adapter (peripherals/, client/) chosen by configuration in the
composition root, and an in-memory fake in tests/ for pure-logic tests.
Device calls are blocking and run in worker threads; the platform port is async.
Every call raises only ``kiosk.errors`` exceptions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from kiosk.health import Health
from kiosk.identity import IdCard, SocialSecurityCard
from kiosk.outcomes import Outcome, Progress, Submission
from kiosk.receipt import Receipt


@runtime_checkable
class Device(Protocol):
    name: str

    def health(self) -> Health:
        """Current state for the heartbeat and the self-test; never raises."""

    def close(self) -> None: ...


class IdCardReader(Device, Protocol):
    def read_card(self, timeout: float = 0.0) -> IdCard | None:
        """Poll for a card and read it; None when no card is present.

        :raises CardError: the card is there but could not be read.
        :raises DeviceError: the reader does not answer or answers garbage.
        """


class SocialCardReader(Device, Protocol):
    def read_card(self) -> SocialSecurityCard | None:
        """Read the inserted card; None when no card is inserted.

        :raises CardError: removed mid-read, mute, or wrong status words.
        :raises DeviceError: pcscd or the reader is unavailable.
        """


class PrinterStatus(StrEnum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    ERROR = "error"


class ReceiptPrinter(Device, Protocol):
    def status(self) -> PrinterStatus:
        """Real-time status (DLE EOT).

        :raises PrinterError: no answer.
        """

    def print_receipt(self, receipt: Receipt) -> None:
        """Print one receipt in full, checking status before and after.

        :raises PaperOut: no paper before, or paper ran out during, the job;
            the job is kept and printed in full once paper is back.
        :raises PrinterError: offline, cover open, or the link failed.
        """

    def reprint_pending(self, fresh: Receipt | None = None) -> bool:
        """Print the job kept after a paper-out, in full, unless it has gone stale.
        ``fresh``: the same job built again (the citizen changed language meanwhile),
        printed in its place when its job id is the kept one's.

        :raises PaperOut: still no paper (the job stays kept).
        """

    def discard_pending(self) -> None:
        """Forget a kept job (the citizen has gone; never print it for the next one)."""


@dataclass(frozen=True)
class Frame:
    """One captured image: encoded bytes (PNG/JPEG) plus size; no cv2 types here."""

    data: bytes
    width: int
    height: int
    media_type: str = "image/png"


class Camera(Device, Protocol):
    def capture(self) -> Frame:
        """:raises DeviceError: the camera gives no frame."""


@dataclass(frozen=True)
class FaceLook:
    """One live look through the face camera: what the screen shows, and the face check's verdict.

    ``preview`` is raw RGB (``image/x-raw-rgb``, rows top first), small and
    mirrored as a selfie view; ``box`` is the face in the preview's pixels;
    ``guidance`` a message key ("face.too_small": move closer) when the frame
    is not usable, "" when it is; ``photo`` the face crop (JPEG) to send for
    the face match when it is. Personal data: held only while on screen.
    """

    preview: Frame
    ok: bool
    guidance: str = ""
    box: tuple[int, int, int, int] | None = None
    photo: Frame | None = None

    def __repr__(self) -> str:
        return f"FaceLook(ok={self.ok}, guidance={self.guidance!r})"


class FaceCamera(Camera, Protocol):
    def look(self) -> FaceLook:
        """Grab a frame and check it (about 50 ms: a worker thread).

        :raises DeviceError: the camera gives no frame, or the face detector is missing.
        """


@dataclass(frozen=True)
class DocumentLook:
    """One live look through the document camera (高拍仪), for the capture screen.

    ``preview`` is raw RGB (``image/x-raw-rgb``, rows top first), small;
    ``corners`` the page found (top-left, top-right, bottom-right, bottom-left, in
    the preview's pixels), None when no page is in view; ``steady`` whether the
    picture held still since the last look (hands off the page: time to take it).
    Personal data: held only while on screen.
    """

    preview: Frame
    corners: tuple[tuple[int, int], ...] | None = None
    steady: bool = False

    def __repr__(self) -> str:
        return f"DocumentLook(page={self.corners is not None}, steady={self.steady})"


class DocumentCamera(Camera, Protocol):
    def look(self) -> DocumentLook:
        """Grab a frame, find the page in it and compare it with the last look (a worker thread).

        :raises DeviceError: the camera gives no frame.
        """

    def forget(self) -> None:
        """Drop what the last look kept (the next look is never "steady")."""


class CodeScanner(Device, Protocol):
    def read_code(self, timeout: float) -> str | None:
        """The next scanned code, or None after ``timeout`` seconds."""


class Speech(Protocol):
    def say(self, text: str, language: str = "zh") -> None: ...


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...


class Platform(Protocol):
    """The central platform, as the kiosk sees it (async; one adapter per platform)."""

    async def health(self) -> Mapping[str, Any]:
        """Server status and version.

        :raises PlatformError: unreachable or a garbled reply.
        """

    async def submit(self, submission: Submission) -> Outcome:
        """Submit once (idempotent by ``submission.key``); PENDING with a local number when offline.

        :raises PlatformRejected: refused, with a message key a screen can show.
        :raises PlatformError: not delivered and not kept (an adapter without an outbox).
        """

    async def progress(self, number: str) -> Progress:
        """Progress by acceptance number (or a pending slip's local number).

        :raises PlatformRejected: no such application (status 404).
        :raises PlatformError: unreachable or a garbled reply.
        """

    async def applications_of(self, id_number: str, *, card_read_at: dt.datetime) -> list[Progress]:
        """The citizen's own applications, newest first, by the card read at ``card_read_at``.

        :raises PlatformRejected: the card read is stale (403) or the number invalid (422).
        :raises PlatformError: unreachable or a garbled reply.
        """
