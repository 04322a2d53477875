"""Document capture on synthetic photos: a white page with text on a dark desk."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from peripherals.camera.document import (
    A4_RATIO,
    enhance,
    find_page,
    is_steady,
    order_corners,
    scan_page,
    warp,
)

PAGE_W, PAGE_H = 420, 594  # A4 at 2 px/mm


def make_page(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A flat A4 page with a title and lines of "text"; returns (page, ink mask)."""
    page = np.full((PAGE_H, PAGE_W, 3), 245, np.uint8)
    cv2.putText(page, "APPLICATION FORM", (40, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    y = 110
    while y < PAGE_H - 40:
        words = "".join(rng.choice(list("abcdefghijk lmnopqrst uvwxyz 0123456789"), 28))
        cv2.putText(page, words, (40, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (30, 30, 30), 1)
        y += 32
    ink = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) < 128
    return page, ink


def photograph(page: np.ndarray, corners, size=(1280, 960), light=True) -> np.ndarray:
    """The page lying on a dark desk, seen in perspective, with uneven light."""
    w, h = size
    rng = np.random.default_rng(1)
    desk = rng.normal(55, 8, (h, w, 3)).clip(0, 255).astype(np.uint8)
    src = np.float32([[0, 0], [PAGE_W - 1, 0], [PAGE_W - 1, PAGE_H - 1], [0, PAGE_H - 1]])
    matrix = cv2.getPerspectiveTransform(src, np.float32(corners))
    warped = cv2.warpPerspective(page, matrix, (w, h))
    mask = cv2.warpPerspective(np.full(page.shape[:2], 255, np.uint8), matrix, (w, h)) > 0
    photo = desk.copy()
    photo[mask] = warped[mask]
    if light:
        # A lamp on the left: the right side of the frame gets 45% of the light.
        gradient = np.linspace(1.0, 0.45, w, dtype=np.float32)[None, :, None]
        photo = (photo.astype(np.float32) * gradient).astype(np.uint8)
    return photo


TILTED = [[380, 140], [930, 190], [980, 880], [300, 830]]  # keystoned, turned a little
TURNED = [[640, 60], [1080, 400], [690, 930], [220, 560]]  # turned about 40 degrees
SIDEWAYS = [[1160, 190], [1150, 760], [350, 770], [340, 200]]  # landscape on the desk


@pytest.mark.parametrize(
    "corners", [TILTED, TURNED, SIDEWAYS], ids=["tilted", "turned", "sideways"]
)
def test_page_on_desk_is_found_at_its_corners(corners):
    # Given a photo of a page lying on a dark desk
    page, _ = make_page(np.random.default_rng(0))
    photo = photograph(page, corners)
    # When the page is looked for
    quad = find_page(photo)
    # Then its four corners are found within 1.5% of the frame diagonal
    assert quad is not None
    expected = order_corners(np.float32(corners))
    error = np.linalg.norm(quad - expected, axis=1).max()
    assert error < 0.015 * np.hypot(1280, 960), f"corner error {error:.1f}px"


@pytest.mark.parametrize(
    "corners", [TILTED, TURNED, SIDEWAYS], ids=["tilted", "turned", "sideways"]
)
def test_warped_page_has_a4_proportions(corners):
    page, _ = make_page(np.random.default_rng(0))
    photo = photograph(page, corners)
    out = warp(photo, find_page(photo))
    long_side, short_side = max(out.shape[:2]), min(out.shape[:2])
    assert long_side / short_side == pytest.approx(A4_RATIO, rel=0.01)
    assert short_side > 300  # kept at the camera's resolution, not shrunk


def test_warped_page_is_upright_and_fills_the_output():
    # Given a keystoned photo, when straightened, the page fills the output: no desk at the rim
    page, _ = make_page(np.random.default_rng(0))
    photo = photograph(page, TILTED, light=False)
    out = cv2.cvtColor(warp(photo, find_page(photo)), cv2.COLOR_BGR2GRAY)
    assert out.shape[0] > out.shape[1]  # portrait, as the page lies
    inner = out[8:-8, 8:-8]
    rim = np.concatenate([inner[0], inner[-1], inner[:, 0], inner[:, -1]])
    assert np.median(rim) > 200  # paper, not the dark desk
    # And the title is near the top, i.e. the page is not upside down
    rows_with_ink = np.where((out < 100).sum(axis=1) > 5)[0]
    assert rows_with_ink.min() < out.shape[0] * 0.2


def test_empty_desk_has_no_page():
    rng = np.random.default_rng(3)
    desk = rng.normal(55, 8, (720, 960, 3)).clip(0, 255).astype(np.uint8)
    assert find_page(desk) is None
    assert scan_page(desk) is None


def _contrast(gray: np.ndarray, ink: np.ndarray, cols: slice) -> tuple[float, float]:
    """(paper minus ink grey level, paper unevenness) over some columns."""
    g = gray[:, cols].astype(np.float32)
    m = ink[:, cols]
    paper_margin = ~cv2.dilate(ink.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    paper = g[paper_margin[:, cols]]
    return float(np.median(paper) - np.median(g[m])), float(paper.std())


def test_enhance_makes_text_in_the_shadow_stand_out_and_paper_even():
    # Given a flat page lit from the left (the right half in shadow)
    page, ink = make_page(np.random.default_rng(0))
    gradient = np.linspace(1.0, 0.4, PAGE_W, dtype=np.float32)[None, :, None]
    shaded = (page.astype(np.float32) * gradient).astype(np.uint8)
    before = cv2.cvtColor(shaded, cv2.COLOR_BGR2GRAY)
    # When enhanced
    after = enhance(shaded)
    # Then text in the shadowed half contrasts more with the paper around it
    shadow = slice(PAGE_W // 2, PAGE_W)
    gap_before, uneven_before = _contrast(before, ink, shadow)
    gap_after, uneven_after = _contrast(after, ink, slice(PAGE_W // 2, PAGE_W))
    assert gap_after > gap_before * 1.5, (gap_before, gap_after)
    # And the paper is evenly white across the page, like a flatbed scan
    _, uneven_whole = _contrast(after, ink, slice(0, PAGE_W))
    _, uneven_whole_before = _contrast(before, ink, slice(0, PAGE_W))
    assert uneven_whole < uneven_whole_before / 3
    assert np.median(after[~ink]) > 220
    assert after.ndim == 2


def test_still_frames_are_steady_and_a_moving_hand_is_not():
    page, _ = make_page(np.random.default_rng(0))
    frame = photograph(page, TILTED)
    noisy = cv2.add(frame, np.random.default_rng(5).integers(0, 3, frame.shape, dtype=np.uint8))
    assert is_steady(frame, noisy)
    hand = frame.copy()
    cv2.rectangle(hand, (500, 300), (800, 900), (120, 150, 190), -1)  # a hand over the page
    assert not is_steady(frame, hand)
    assert not is_steady(None, frame)
