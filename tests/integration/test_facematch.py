"""Face match (人证比对) with the real dlib model on the photos in shared/data/faces."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from central.facematch import (
    DEFAULT_THRESHOLD,
    MODEL,
    FaceMatcher,
    ImageUnreadable,
    NoFace,
    SeveralFaces,
)
from peripherals.camera.face import check_face

pytestmark = pytest.mark.integration

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def matcher() -> FaceMatcher:
    if not FACES.is_dir():
        pytest.fail(f"face test photos missing: {FACES} (shared/data/faces beside the repo)")
    matcher = FaceMatcher()
    matcher.load()  # a missing model fails here, with FaceModelError saying which file
    return matcher


def photo(name: str) -> bytes:
    path = FACES / name
    if not path.is_file():
        pytest.fail(f"face test photo missing: {path}")
    return path.read_bytes()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def id_card_photo(name: str, box: tuple[int, int, int, int]) -> bytes:
    """A head-and-shoulders crop at the ID card chip's 102x126 pixels."""
    with Image.open(FACES / name) as img:
        small = img.convert("RGB").crop(box).resize((102, 126), Image.Resampling.LANCZOS)
    return png(small)


@pytest.mark.parametrize("live", ["obama2.jpg", "obama3.jpg"])
def test_another_photo_of_the_same_person_matches(matcher, live):
    # Given Obama's photo of record and another photo of him taken elsewhere
    # When compared
    result = matcher.compare(photo("obama.jpg"), photo(live))
    # Then they match, with the score, the threshold and the model reported
    assert result.match
    assert 0.0 < result.distance < DEFAULT_THRESHOLD
    assert result.threshold == DEFAULT_THRESHOLD and result.model == MODEL
    assert result.similarity > 0.5


def test_a_second_person_matches_their_own_photo(matcher):
    result = matcher.compare(photo("biden.jpg"), photo("biden2.jpg"))
    assert result.match and result.distance < DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("record", "live"), [("obama.jpg", "biden.jpg"), ("biden2.jpg", "obama3.jpg")]
)
def test_another_person_does_not_match(matcher, record, live):
    # Given the photo of record of one person and a live photo of another
    result = matcher.compare(photo(record), photo(live))
    # Then no match, and not a near miss
    assert not result.match
    assert result.distance > DEFAULT_THRESHOLD + 0.1
    assert result.similarity < 0.5
    assert result.as_dict()["match"] is False


def test_a_small_id_card_photo_of_record_matches_the_right_person_only(matcher):
    # Given a record photo at the ID card chip's size (102x126), made from obama.jpg
    record = id_card_photo("obama.jpg", (236, -14, 755, 627))
    # When compared with other photos of him and of someone else
    same = matcher.compare(record, photo("obama2.jpg"))
    other = matcher.compare(record, photo("biden.jpg"))
    # Then only he matches
    assert same.match and not other.match


def test_the_crop_the_kiosk_sends_matches_the_photo_of_record(matcher):
    # Given the live photo as the kiosk's capture check crops and encodes it
    check = check_face(cv2.imdecode(np.frombuffer(photo("obama3.jpg"), np.uint8), cv2.IMREAD_COLOR))
    assert check.ok, check.reason
    # When compared with his photo of record, then it matches
    assert matcher.compare(photo("obama.jpg"), check.jpeg).match


def test_two_people_in_the_live_photo_are_refused(matcher):
    # Given a live photo with Obama and Biden side by side
    with pytest.raises(SeveralFaces) as caught:
        matcher.compare(photo("obama.jpg"), photo("obama_and_biden.jpg"))
    # Then the kiosk can ask for one person at a time, and knows it was the live photo
    assert caught.value.message_key == "face.several"
    assert caught.value.photo == "live"
    assert caught.value.faces >= 2


def test_a_photo_without_a_face_is_refused(matcher):
    blank = png(Image.new("RGB", (640, 480), (200, 200, 200)))
    with pytest.raises(NoFace) as caught:
        matcher.compare(photo("obama.jpg"), blank)
    assert caught.value.message_key == "face.none" and caught.value.photo == "live"


def test_a_record_photo_without_a_face_names_the_record(matcher):
    blank = png(Image.new("RGB", (102, 126), (255, 255, 255)))
    with pytest.raises(NoFace) as caught:
        matcher.compare(blank, photo("obama.jpg"))
    assert caught.value.photo == "record"


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all" * 50, b"\xff\xd8\xff\xe0", b"GIF89a" + bytes(100)],
    ids=["empty", "garbage", "jpeg-header-only", "gif"],
)
def test_bytes_that_are_not_an_image_are_refused(matcher, data):
    with pytest.raises(ImageUnreadable) as caught:
        matcher.embed(data)
    assert caught.value.message_key == "face.image_unreadable"


def test_a_truncated_jpeg_is_refused(matcher):
    whole = photo("obama2.jpg")
    with pytest.raises(ImageUnreadable):
        matcher.embed(whole[: len(whole) // 2])


def test_a_stricter_threshold_is_applied_and_reported(matcher):
    # Given a matcher with a stricter threshold than the two photos' distance (~0.35)
    strict = FaceMatcher(threshold=0.2)
    result = strict.compare(photo("obama.jpg"), photo("obama2.jpg"))
    # Then the same pair is not a match, and the threshold used is reported
    assert not result.match and result.threshold == 0.2
    assert result.distance > 0.2


def test_concurrent_first_calls_on_a_new_matcher_all_get_the_right_embedding(matcher):
    # Given a matcher whose model is not loaded yet, and four threads calling it at once
    data = photo("biden2.jpg")
    expected = matcher.embed(data)
    fresh = FaceMatcher()
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(fresh.embed(data))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # Then each gets exactly the embedding a lone call on a loaded matcher gets
    assert not any(t.is_alive() for t in threads)
    assert len(results) == 4
    for got in results:
        np.testing.assert_array_equal(got, expected)


async def test_compare_async_answers_from_the_event_loop(matcher):
    result = await matcher.compare_async(photo("biden.jpg"), photo("biden2.jpg"))
    assert result.match


def test_importing_the_module_loads_no_model():
    code = "import sys, central.facematch; assert 'dlib' not in sys.modules, 'dlib imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
