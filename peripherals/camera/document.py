"""Document capture (高拍仪): find the page, straighten it, make it look scanned.

Pure functions on numpy images. No camera I/O here: the document camera
(peripherals/camera/capture.py) grabs frames in a worker thread and calls these;
the pages taken live in the citizen's journey.
"""

from __future__ import annotations

import cv2
import numpy as np

A4_RATIO = 297 / 210  # long side over short side
WORK_SIZE = 800  # detection runs on a copy this wide at most: fast and steadier edges
MIN_PAGE_AREA = 0.15  # of the frame: smaller quads are cards, labels or noise
MAX_PAGE_AREA = 0.95  # of the frame: a "page" this big is the frame border itself
MIN_PAGE_CONTRAST = 25  # grey levels between the page and the desk around it


def _shrink(img: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    h, w = img.shape[:2]
    scale = min(1.0, size / max(h, w))
    if scale < 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return img, scale


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left (float32, 4x2).

    Sorted by angle around the centre (clockwise on screen), then rolled so
    the corner nearest the image origin comes first; unlike sum/difference
    tricks this holds for a page turned near 45 degrees.
    """
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]
    return np.roll(pts, -int(np.argmin(pts.sum(axis=1))), axis=0)


def find_page(img: np.ndarray) -> np.ndarray | None:
    """The page's four corners (tl, tr, br, bl, in ``img`` pixels), or None.

    The largest convex four-sided contour after edge detection; Otsu's
    threshold is tried as well because a white page on a dark desk separates
    cleanly even where its edges are soft.
    """
    small, scale = _shrink(img, WORK_SIZE)
    gray = cv2.GaussianBlur(_gray(small), (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 50, 150), np.ones((3, 3), np.uint8))
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    frame_area = small.shape[0] * small.shape[1]
    best, best_area = None, MIN_PAGE_AREA * frame_area
    for mask in (edges, bright):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            hull = cv2.convexHull(c)
            quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
            area = cv2.contourArea(quad)
            if (
                len(quad) == 4
                and best_area < area < MAX_PAGE_AREA * frame_area
                and _stands_out(gray, quad)
            ):
                best, best_area = quad, area
    if best is None:
        return None
    return order_corners(best.reshape(4, 2) / scale)


def _stands_out(gray: np.ndarray, quad: np.ndarray) -> bool:
    """The page is paper on a desk: clearly brighter than a band around it."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2).astype(np.int32), 255)
    band = cv2.dilate(inside, np.ones((25, 25), np.uint8)) & ~inside
    if not band.any():
        return False
    return cv2.mean(gray, inside)[0] - cv2.mean(gray, band)[0] > MIN_PAGE_CONTRAST


def warp(img: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The page straightened to A4 proportions (portrait or landscape as it lies)."""
    tl, tr, br, bl = order_corners(quad)
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    if height >= width:
        w = int(round(width))
        h = int(round(w * A4_RATIO))
    else:
        h = int(round(height))
        w = int(round(h * A4_RATIO))
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl]), target)
    return cv2.warpPerspective(img, matrix, (w, h), flags=cv2.INTER_CUBIC)


def enhance(img: np.ndarray) -> np.ndarray:
    """A grayscale "scan": uneven light divided out, paper white, ink dark.

    Dividing by the page's own background (rather than a hard threshold) keeps
    photos and stamps on the page legible, which a black-and-white
    threshold would destroy.
    """
    gray = _gray(img)
    # The background (the page with its ink closed over) varies slowly: found on a copy a
    # quarter the size and brought back up, at a sixteenth of the work
    h, w = gray.shape[:2]
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    k = max(5, (min(small.shape[:2]) // 8) | 1)  # odd, wider than any stroke
    background = cv2.resize(
        cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))),
        (w, h), interpolation=cv2.INTER_LINEAR,
    )  # fmt: skip
    flat = cv2.divide(gray, background, scale=255)
    # Levels, as a scanner sets them: the darkest ink to black, the paper to white.
    # (A global stretch: CLAHE's tiles show up as blotches on plain paper.)
    black, white = np.percentile(flat, (1, 60))
    if white - black < 10:
        return flat  # nothing on the page to stretch
    lut = np.clip((np.arange(256) - black) * 255.0 / (white - black), 0, 255).astype(np.uint8)
    return cv2.LUT(flat, lut)


def trim(img: np.ndarray, margin: float = 0.01) -> np.ndarray:
    """Crop ``margin`` of each side: a sliver of desk along a soft page edge
    would print as a black line. Equal fractions keep the A4 proportions."""
    h, w = img.shape[:2]
    dy, dx = int(h * margin), int(w * margin)
    return img[dy : h - dy, dx : w - dx]


def scan_page(img: np.ndarray) -> np.ndarray | None:
    """find_page, warp, trim, enhance: the page as a grayscale scan; None if no page."""
    quad = find_page(img)
    # straightened in grey: the scan is grey, and a third of the pixels to resample
    return None if quad is None else enhance(trim(warp(_gray(img), quad)))


def is_steady(
    prev: np.ndarray | None, cur: np.ndarray, *, level: int = 25, share: float = 0.01
) -> bool:
    """True when under ``share`` of the picture changed by more than ``level`` grey
    levels between two frames: the citizen's hands are off the page, so the
    page can be captured automatically. Sensor noise stays under ``level``."""
    if prev is None or prev.shape != cur.shape:
        return False
    a = cv2.GaussianBlur(_shrink(_gray(prev), 160)[0], (5, 5), 0)
    b = cv2.GaussianBlur(_shrink(_gray(cur), 160)[0], (5, 5), 0)
    changed = cv2.absdiff(a, b) > level
    return float(changed.mean()) < share
