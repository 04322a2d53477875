"""The face camera's live look (FaceCamera.look) through real OpenCV on the test photos:
a mirrored preview the screen can draw, the face box on it, guidance, and the photo
only when the face is usable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from peripherals.camera.capture import FaceCamera
from peripherals.rig_parts import SHARED_FACES

pytestmark = pytest.mark.integration


@pytest.fixture
def camera(tmp_path):
    if not SHARED_FACES.is_dir():
        pytest.fail(f"face test photos missing: {SHARED_FACES}")
    cam = FaceCamera(f"file://{tmp_path / 'view.jpg'}")
    yield cam
    cam.close()


def test_a_usable_face_gives_a_mirrored_preview_with_its_box_and_the_photo_to_send(camera):
    camera.show(SHARED_FACES / "obama.jpg")
    look = camera.look()
    assert look.ok and look.guidance == "" and look.photo.media_type == "image/jpeg"
    # The preview is raw RGB, rows of whole words, at most 640 wide
    p = look.preview
    assert p.media_type == "image/x-raw-rgb" and p.width <= 640 and p.width % 4 == 0
    assert len(p.data) == p.width * p.height * 3
    # and mirrored: the face box sits where the face is in the flipped picture
    original = cv2.imread(str(SHARED_FACES / "obama.jpg"))
    scale = p.width / original.shape[1]
    x, y, w, h = camera.last_check.box
    bx, by, bw, bh = look.box
    assert abs(bx - (p.width - (x + w) * scale)) <= 2 and abs(by - y * scale) <= 2
    picture = np.frombuffer(p.data, np.uint8).reshape(p.height, p.width, 3)
    flipped = cv2.cvtColor(
        cv2.flip(cv2.resize(original, (p.width, p.height)), 1), cv2.COLOR_BGR2RGB
    )
    assert float(np.abs(picture.astype(int) - flipped.astype(int)).mean()) < 6
    # The verdict is remembered, never the photo
    assert camera.last_check.jpeg is None


@pytest.mark.parametrize(
    ("photo", "guidance"),
    [("obama_small.jpg", "face.too_small"), ("obama_and_biden.jpg", "face.several"),
     ("obama_partial_face.jpg", "face.partial")],
)  # fmt: skip
def test_an_unusable_face_gives_guidance_and_no_photo(camera, photo, guidance):
    camera.show(SHARED_FACES / photo)
    look = camera.look()
    assert (look.ok, look.guidance, look.photo) == (False, guidance, None)
