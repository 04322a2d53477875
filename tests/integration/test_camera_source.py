"""Capture sources over real files: stills, sequences, videos written with cv2, and faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.errors import CaptureRejected, DeviceError
from kiosk.health import HealthState
from peripherals.camera.capture import DocumentCamera, FaceCamera
from peripherals.camera.source import EndOfStream, OpenCvCamera, open_source
from peripherals.rig_parts import SHARED_FACES

pytestmark = pytest.mark.integration


def solid(value: int, size=(64, 48)) -> np.ndarray:
    """A frame of one grey level: which frame came back is then easy to tell."""
    return np.full((size[1], size[0], 3), value, np.uint8)


def write_video(path: Path, levels: list[int], size=(64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
    for level in levels:
        writer.write(solid(level, size))
    writer.release()
    return path


def level(frame: np.ndarray) -> int:
    return int(round(float(frame.mean())))


@pytest.fixture
def closing():
    opened = []
    yield opened.append
    for thing in opened:
        thing.close()


def test_still_image_is_returned_on_every_read(tmp_path, closing):
    cv2.imwrite(str(tmp_path / "a.png"), solid(80))
    source = open_source(f"file://{tmp_path / 'a.png'}")
    closing(source)
    assert [level(source.read()) for _ in range(3)] == [80, 80, 80]
    assert source.health().ok


def test_still_image_replaced_on_disk_is_picked_up(tmp_path, closing):
    # The emulator (or a technician) swaps the picture the camera "sees"
    path = tmp_path / "view.png"
    cv2.imwrite(str(path), solid(80))
    source = open_source(f"file://{path}")
    closing(source)
    assert level(source.read()) == 80
    cv2.imwrite(str(tmp_path / "next.png"), solid(200, (80, 60)))
    (tmp_path / "next.png").replace(path)
    assert level(source.read()) == 200


def test_camera_shown_a_face_then_a_document_captures_each(tmp_path, closing):
    # Given a file camera, as a UI test drives it
    camera = OpenCvCamera(f"file://{SHARED_FACES / 'obama.jpg'}", name="face_camera")
    closing(camera)
    first = camera.capture()
    assert first.media_type == "image/jpeg" and first.data[:3] == b"\xff\xd8\xff"
    assert (first.width, first.height) == (910, 1137)
    # When it is shown another picture, the next capture is that picture
    cv2.imwrite(str(tmp_path / "doc.png"), solid(240, (300, 420)))
    camera.show(tmp_path / "doc.png")
    assert (camera.capture().width, camera.capture().height) == (300, 420)
    camera.show(solid(10, (32, 32)))
    assert camera.capture().width == 32


def test_missing_image_file_is_a_device_error_naming_the_file(tmp_path, closing):
    source = open_source(f"file://{tmp_path / 'gone.jpg'}", name="document_camera")
    closing(source)
    with pytest.raises(DeviceError) as caught:
        source.read()
    assert "gone.jpg" in caught.value.detail
    health = source.health()
    assert health.state is HealthState.FAULT and "gone.jpg" in health.reason
    # And when the file appears (the camera is back) reads work and health recovers
    cv2.imwrite(str(tmp_path / "gone.jpg"), solid(50))
    assert level(source.read()) == 50
    assert source.health().ok


def test_file_that_is_not_an_image_is_reported_as_such(tmp_path, closing):
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg at all")
    source = open_source(f"file://{tmp_path / 'bad.jpg'}")
    closing(source)
    with pytest.raises(DeviceError, match="not a readable image"):
        source.read()


def test_image_sequence_cycles_in_name_order(tmp_path, closing):
    for i, value in enumerate([30, 60, 90]):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), solid(value))
    source = open_source(f"files://{tmp_path}/*.png")
    closing(source)
    assert [level(source.read()) for _ in range(5)] == [30, 60, 90, 30, 60]


def test_image_sequence_without_loop_ends(tmp_path, closing):
    for i, value in enumerate([30, 60]):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), solid(value))
    source = open_source(f"files://{tmp_path}/*.png?loop=0")
    closing(source)
    assert [level(source.read()) for _ in range(2)] == [30, 60]
    with pytest.raises(EndOfStream):
        source.read()
    assert source.health().state is HealthState.FAULT


def test_empty_sequence_directory_is_a_fault(tmp_path, closing):
    source = open_source(f"files://{tmp_path}/*.jpg")
    closing(source)
    with pytest.raises(DeviceError, match="no image files match"):
        source.read()


def test_video_frames_are_read_in_order_then_end(tmp_path, closing):
    path = write_video(tmp_path / "clip.avi", [40, 120, 200])
    source = open_source(f"video://{path}")
    closing(source)
    got = [level(source.read()) for _ in range(3)]
    assert got == pytest.approx([40, 120, 200], abs=3)  # MJPG is lossy
    with pytest.raises(EndOfStream) as caught:
        source.read()
    assert "end of video" in caught.value.detail
    assert source.health().state is HealthState.FAULT


def test_looping_video_rewinds(tmp_path, closing):
    path = write_video(tmp_path / "clip.avi", [40, 200])
    source = open_source(f"video://{path}?loop=1")
    closing(source)
    got = [level(source.read()) for _ in range(5)]
    assert got == pytest.approx([40, 200, 40, 200, 40], abs=3)
    assert source.health().ok


def test_missing_video_is_a_device_error(tmp_path, closing):
    source = open_source(f"video://{tmp_path / 'none.mp4'}")
    closing(source)
    with pytest.raises(DeviceError, match="none.mp4"):
        source.read()
    assert source.health().state is HealthState.FAULT


def test_absent_v4l2_device_is_a_fault_naming_it(closing):
    source = open_source("v4l2:///dev/video97")
    closing(source)
    with pytest.raises(DeviceError):
        source.read()
    health = source.health()
    assert health.state is HealthState.FAULT and "/dev/video97" in health.reason


def test_unknown_source_scheme_is_refused():
    with pytest.raises(DeviceError, match="unknown camera source"):
        open_source("rtsp://10.0.0.1/stream")


def test_face_camera_accepts_one_face_and_guides_on_two(tmp_path, closing):
    face_view = tmp_path / "face.jpg"
    shutil.copy(SHARED_FACES / "obama.jpg", face_view)
    camera = FaceCamera(f"file://{face_view}")
    closing(camera)
    frame = camera.capture()
    assert frame.data[:3] == b"\xff\xd8\xff" and 0 < frame.width < 910
    camera.show(SHARED_FACES / "obama_and_biden.jpg")
    with pytest.raises(CaptureRejected) as caught:
        camera.capture()
    assert caught.value.message_key == "face.several"
    assert camera.health().ok  # a refused picture is not a device fault


def desk_and_page(tmp_path: Path) -> None:
    """desk.png, an empty dark desk, and page.png, a white page lying on it askew."""
    desk = np.full((600, 800, 3), 50, np.uint8)
    cv2.imwrite(str(tmp_path / "desk.png"), desk)
    page = desk.copy()
    cv2.fillConvexPoly(page, np.int32([[250, 60], [560, 80], [590, 540], [220, 520]]), (240,) * 3)
    cv2.imwrite(str(tmp_path / "page.png"), page)


def test_document_camera_scans_a_page_and_says_when_there_is_none(tmp_path, closing):
    desk_and_page(tmp_path)
    camera = DocumentCamera(f"file://{tmp_path / 'desk.png'}")
    closing(camera)
    with pytest.raises(CaptureRejected) as caught:
        camera.capture()
    assert caught.value.message_key == "document.no_page"
    camera.show(tmp_path / "page.png")
    frame = camera.capture()
    assert frame.height / frame.width == pytest.approx(297 / 210, rel=0.02)


def test_document_camera_looks_find_the_page_and_tell_when_it_holds_still(tmp_path, closing):
    # The capture screen's live view: the page outlined in the preview's pixels, and
    # "steady" only once the same picture was seen twice (hands off the page)
    desk_and_page(tmp_path)
    camera = DocumentCamera(f"file://{tmp_path / 'desk.png'}")
    closing(camera)
    first = camera.look(preview_width=400)
    assert first.corners is None and not first.steady  # nothing seen before
    assert (first.preview.width, first.preview.height) == (400, 300)
    assert len(first.preview.data) == 400 * 300 * 3
    camera.show(tmp_path / "page.png")
    moved = camera.look(preview_width=400)
    assert not moved.steady  # the page was just laid down
    still = camera.look(preview_width=400)
    assert still.steady
    # the corners, halved with the preview, clockwise from top-left
    for got, want in zip(still.corners, [(125, 30), (280, 40), (295, 270), (110, 260)], strict=True):
        assert abs(got[0] - want[0]) <= 4 and abs(got[1] - want[1]) <= 4, still.corners
    camera.forget()  # the screen closed: the next look starts afresh
    assert not camera.look(preview_width=400).steady
