"""Sample pictures for the camera emulation: a paper form lying on the desk
under the document camera, photographed in perspective, as a 高拍仪 sees it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.fonts import sc_font

PAGE = (840, 1188)  # A4 at 4 px/mm
LINES = (
    "居民户口簿  常住人口登记卡",
    "户主姓名：张伟        与户主关系：户主",
    "性别：男   民族：汉   出生日期：1985年3月12日",
    "住址：江西省吉安市安福县洲湖镇洲湖村",
    "公民身份号码：3624251985031200XX",
    "承办人签章：                登记日期：2015年6月1日",
)


SECOND_PAGE = (  # the same booklet's next page: a household member
    "居民户口簿  常住人口登记卡",
    "姓名：张小雨        与户主关系：女",
    "性别：女   民族：汉   出生日期：2026年11月2日",
    "住址：江西省吉安市安福县洲湖镇洲湖村",
    "公民身份号码：（待申报）",
    "承办人签章：                登记日期：2026年11月20日",
)


def page_image(lines: tuple[str, ...] = LINES) -> np.ndarray:
    page = Image.new("RGB", PAGE, (246, 244, 238))
    draw = ImageDraw.Draw(page)
    title = ImageFont.truetype(str(sc_font("Bold")), 44)
    body = ImageFont.truetype(str(sc_font("Regular")), 30)
    draw.text((PAGE[0] // 2, 90), lines[0], font=title, fill=(25, 25, 25), anchor="mm")
    y = 190
    for line in lines[1:]:
        draw.text((60, y), line, font=body, fill=(30, 30, 30))
        draw.line((60, y + 48, PAGE[0] - 60, y + 48), fill=(180, 170, 160), width=2)
        y += 110
    draw.rectangle((30, 30, PAGE[0] - 30, PAGE[1] - 30), outline=(120, 60, 60), width=3)
    return cv2.cvtColor(np.array(page), cv2.COLOR_RGB2BGR)


def desk_photo(size=(1600, 1200)) -> np.ndarray:
    """The empty desk under the document camera."""
    w, h = size
    return np.random.default_rng(7).normal(50, 6, (h, w, 3)).clip(0, 255).astype(np.uint8)


WHERE = ((560, 90), (1130, 130), (1170, 1110), (480, 1080))  # the page's corners on the desk
TURNED = ((520, 110), (1100, 100), (1180, 1080), (500, 1100))  # the next page, laid a little askew


def document_photo(size=(1600, 1200), lines: tuple[str, ...] = LINES,
                   where=WHERE) -> np.ndarray:  # fmt: skip
    """The page on a dark desk, turned a little and keystoned."""
    w, h = size
    desk = desk_photo(size)
    page = page_image(lines)
    ph, pw = page.shape[:2]
    src = np.float32([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]])
    dst = np.float32(where)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(page, matrix, (w, h))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (w, h)) > 0
    desk[mask] = warped[mask]
    return desk


def write_document_photo(path: Path, what: str = "page") -> Path:
    """Put a picture under the emulated document camera: "page", "second_page" or "desk";
    "gone": none (the camera fails). Written beside and renamed over, so the camera never
    reads half a file."""
    if what == "gone":
        path.unlink(missing_ok=True)
        return path
    picture = {"page": document_photo, "desk": desk_photo,
               "second_page": lambda: document_photo(lines=SECOND_PAGE, where=TURNED)}[what]()  # fmt: skip
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    cv2.imwrite(str(tmp), picture)
    tmp.replace(path)
    return path
