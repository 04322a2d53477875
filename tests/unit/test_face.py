"""Face capture checks on real photos (shared/data/faces) and copies made worse in the test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from peripherals.camera.face import check_face
from peripherals.rig_parts import SHARED_FACES as FACES


def photo(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None, f"test photo missing: {FACES / name}"
    return img


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg", "biden.jpg", "biden2.jpg"])
def test_one_clear_face_is_accepted_with_a_cropped_jpeg(name):
    # Given a well-lit portrait of one person
    img = photo(name)
    # When checked
    result = check_face(img)
    # Then it is usable, and the crop sent for the face match holds the face
    assert result.ok and result.reason is None
    assert result.jpeg[:3] == b"\xff\xd8\xff"
    crop = cv2.imdecode(np.frombuffer(result.jpeg, np.uint8), cv2.IMREAD_COLOR)
    x, y, w, h = result.box
    assert crop.shape[1] >= w and crop.shape[0] >= h
    assert crop.shape[1] < img.shape[1] or crop.shape[0] < img.shape[0]  # cropped, not the frame
    assert (crop.shape[1], crop.shape[0]) == result.crop_size


def test_two_people_are_asked_to_come_one_at_a_time():
    result = check_face(photo("obama_and_biden.jpg"))
    assert not result.ok
    assert result.reason == "face.several"
    assert result.faces == 2
    assert result.jpeg is None


def test_low_resolution_face_is_asked_to_move_closer():
    # obama_small.jpg is 320x240: the face is whole but only ~135 px wide
    result = check_face(photo("obama_small.jpg"))
    assert result.reason == "face.too_small"


def test_face_cut_off_by_the_frame_edge_is_partial():
    # obama_partial_face.jpg: the left half of the face is outside the picture
    result = check_face(photo("obama_partial_face.jpg"))
    assert result.reason == "face.partial"
    assert result.box[0] < 0  # the face box reaches past the left edge


def test_same_face_in_dim_light_is_too_dark():
    img = photo("obama.jpg")
    dim = (img.astype(np.float32) * 0.3).astype(np.uint8)
    assert check_face(dim).reason == "face.too_dark"


def test_near_black_frame_is_too_dark_rather_than_no_face():
    # So dark the detector finds nothing: the guidance is still "more light"
    img = photo("obama.jpg")
    black = (img.astype(np.float32) * 0.15).astype(np.uint8)
    assert check_face(black).reason == "face.too_dark"


def test_somewhat_dim_but_usable_light_is_accepted():
    # Half the light is still a usable photo: no needless refusals
    img = photo("obama.jpg")
    assert check_face((img.astype(np.float32) * 0.5).astype(np.uint8)).ok


def test_out_of_focus_face_is_blurry():
    blurred = cv2.GaussianBlur(photo("obama.jpg"), (0, 0), 3)
    assert check_face(blurred).reason == "face.blurry"


@pytest.mark.parametrize("grey", [128, 255])
def test_blank_frame_has_no_face(grey):
    blank = np.full((480, 640, 3), grey, np.uint8)
    result = check_face(blank)
    assert result.reason == "face.none"
    assert result.faces == 0
