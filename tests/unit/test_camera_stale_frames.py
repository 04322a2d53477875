"""A V4L2 camera stays open between visits, and its driver keeps the frames it filled while
nobody read them: the first look of a visit must not show (or send) the citizen before.
cv2.VideoCapture is stood in for by a device whose queue the test fills (no /dev/video here)."""

from __future__ import annotations

import numpy as np
import pytest

from peripherals.camera import source
from peripherals.camera.source import QUEUED, STALE_AFTER, CaptureDeviceSource


class Device:
    """A capture device: ``queue`` holds the frames the driver has filled, oldest first;
    past them it films what is in front of it now (``live``)."""

    def __init__(self, *_args) -> None:
        self.queue: list[int] = []
        self.live = 100
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 - cv2's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def _next(self) -> int:
        if self.queue:
            return self.queue.pop(0)
        self.live += 1
        return self.live

    def grab(self) -> bool:
        self._next()
        return True

    def read(self):
        return True, np.full((2, 2, 3), self._next(), np.uint8)

    def release(self) -> None:
        pass


@pytest.fixture
def device(monkeypatch) -> Device:
    made = Device()
    monkeypatch.setattr(source.cv2, "VideoCapture", lambda *args: made)
    return made


def test_frames_left_queued_from_the_citizen_before_are_thrown_away(device):
    camera = CaptureDeviceSource(0, is_file=False)
    # Given frames of the last visit left in the driver's queue when the camera was opened
    device.queue = [1, 2, 3, 4]
    # Then the first frame read is of now, and the device was asked to queue one only
    assert camera.read()[0, 0, 0] > 100
    assert device.props[source.cv2.CAP_PROP_BUFFERSIZE] == 1
    # While frames are read one after the other, none is skipped
    device.queue = [7]
    assert camera.read()[0, 0, 0] == 7
    # When nobody has looked for a while (between two visits) and the driver filled its queue
    camera._last_read -= STALE_AFTER + 1
    device.queue = list(range(1, QUEUED + 1))
    # Then those are thrown away too: the next citizen never sees the one before
    assert camera.read()[0, 0, 0] > 100
