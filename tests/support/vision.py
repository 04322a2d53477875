"""Looking at pictures as a person would: is this text drawn there? does this QR scan?

Text is checked by rendering the expected string with the kiosk's font and
finding it in the image (template matching), never by comparing with a stored
copy of the same output.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.fonts import sc_font
from peripherals.scanner.emulator import read_paper


def load_gray(path: Path | str) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise AssertionError(f"{path} is not a readable image")
    return img


def render_text(text: str, size: int, bold: bool = False, dark_on_light: bool = True) -> np.ndarray:
    font = ImageFont.truetype(str(sc_font("Bold" if bold else "Regular")), size)
    left, top, right, bottom = font.getbbox(text)
    fg, bg = (0, 255) if dark_on_light else (255, 0)
    img = Image.new("L", (right - left + 4, bottom - top + 4), bg)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=font, fill=fg)
    return np.array(img)


def text_score(image: np.ndarray, text: str, sizes: range | list[int], bold: bool = False) -> float:
    """Best match of ``text`` anywhere in ``image`` over font sizes and both polarities."""
    best = -1.0
    for size in sizes:
        for dark in (True, False):
            tpl = render_text(text, size, bold, dark)
            if tpl.shape[0] > image.shape[0] or tpl.shape[1] > image.shape[1]:
                continue
            res = cv2.matchTemplate(image, tpl, cv2.TM_CCOEFF_NORMED)
            best = max(best, float(res.max()))
    return best


def shows_text(path: Path | str, text: str, sizes, bold: bool = False, threshold: float = 0.7) -> bool:
    return text_score(load_gray(path), text, sizes, bold) >= threshold


def is_blank(path: Path | str) -> bool:
    """True when the picture is one flat colour (nothing drawn)."""
    return float(load_gray(path).std()) < 2.0


def decode_qr(path: Path | str) -> str:
    """The text of the QR code in the picture, or '' when none scans (as a scanner reads it)."""
    try:
        return read_paper(path)
    except ValueError as err:
        raise AssertionError(str(err)) from err
