"""The face match (人证比对) as the core sees it: which visits need it, when the
live picture is steady enough to take, and what follows each answer. Pure.

The camera adapter decides whether one frame is a usable face photo (exactly
one face, whole, near, lit, sharp); the platform decides whether it is the
citizen. In between, the kiosk waits until a usable face has held still for a
moment (so the photo is not the blur of someone still stepping up), sends it,
and allows :data:`MAX_ATTEMPTS` refusals before it offers a member of staff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.catalog.model import Catalog

MAX_ATTEMPTS = 3

Box = tuple[int, int, int, int]  # x, y, width, height in one image's pixels


def face_matters(catalog: Catalog, matters: Iterable[str]) -> tuple[str, ...]:
    """The matters among ``matters`` that need a face match (catalog ``face_match``)."""
    return tuple(m for m in matters if m in catalog.matters and catalog.matters[m].face_match)


class FaceVerdict(StrEnum):
    MATCHED = "matched"  # it is the citizen: go on
    RETRY = "retry"  # not matched: another photo may be taken
    STAFF = "staff"  # refused MAX_ATTEMPTS times: a member of staff must help


def verdict(matched: bool, refusals_before: int, max_attempts: int = MAX_ATTEMPTS) -> FaceVerdict:
    """What follows the platform's answer, given how many photos it refused before."""
    if matched:
        return FaceVerdict.MATCHED
    return FaceVerdict.STAFF if refusals_before + 1 >= max_attempts else FaceVerdict.RETRY


@dataclass
class SteadyFace:
    """Auto-capture: a usable face that stays put for ``hold`` seconds is taken.

    Fed one frame's verdict at a time (``ok`` and the face box, with the
    frame's monotonic time); answers how far the hold has got, 0..1, where 1
    means "take this one". The face may drift a little (``max_shift`` of its
    width, ``max_scale`` of its size) without restarting the hold; any
    unusable frame restarts it.
    """

    hold: float = 1.0
    max_shift: float = 0.12
    max_scale: float = 0.15
    _anchor: Box | None = None
    _since: float = 0.0

    def feed(self, ok: bool, box: Box | None, t: float) -> float:
        if not ok or box is None:
            self.reset()
            return 0.0
        if self._anchor is None or self._moved(self._anchor, box):
            self._anchor, self._since = box, t
            return 0.0
        if self.hold <= 0:
            return 1.0
        return min(1.0, max(0.0, (t - self._since) / self.hold))

    def reset(self) -> None:
        self._anchor = None
        self._since = 0.0

    def _moved(self, a: Box, b: Box) -> bool:
        ax, ay, aw, ah = a
        bx, by, bw, bh = b
        width = max(aw, 1)
        shift = max(abs((ax + aw / 2) - (bx + bw / 2)), abs((ay + ah / 2) - (by + bh / 2)))
        return shift > self.max_shift * width or abs(bw - aw) > self.max_scale * width
