"""Receipts the printer tests and the benchmark print (fictional people only)."""

from __future__ import annotations

import datetime as dt

from kiosk.receipt import Align, Feed, Pair, Qr, Receipt, Rule, Text

TRACK_URL = "https://zwfw.example.gov.cn/track/SL20250501000123"
LAST_LINE = "请妥善保管本回执"


def acceptance_receipt(
    job_id: str = "SL20250501000123", created_at: dt.datetime | None = None
) -> Receipt:
    """A full acceptance receipt for a life event, ending with ``LAST_LINE``."""
    return Receipt(
        job_id=job_id,
        created_at=created_at or dt.datetime.now(dt.UTC),
        blocks=(
            Text("城关镇便民服务中心", bold=True, align=Align.CENTER),
            Text("受理回执", bold=True, size=2, align=Align.CENTER),
            Rule(),
            Pair("受理编号", "SL20250501000123"),
            Pair("申请人", "张*丰"),
            Pair("一件事", "新生儿出生一件事"),
            Pair("办理事项", "出生医学证明、户口登记、医保参保登记、社会保障卡申领"),
            Pair("受理时间", "2025-05-01 09:30"),
            Pair("承诺办结", "2025-05-09（5个工作日）"),
            Pair("领取方式", "免费邮寄"),
            Pair("收费", "￥0.00"),
            Rule(),
            Text("容缺材料：结婚证复印件，请于2025年5月8日前补交，逾期将影响办理进度。"),
            Text("Any-point service: handled by 县公安局 (county public security bureau)."),
            Feed(),
            Qr(TRACK_URL, module_size=5, caption="微信扫码查询办理进度"),
            Text("咨询电话：12345", align=Align.CENTER),
            Text(LAST_LINE, bold=True, align=Align.CENTER),
        ),
    )


def text_template(text: str, *, bold: bool = False, px: int = 24):
    """The string drawn independently with Pillow (same face, 24-dot size), as
    a binary uint8 array cropped to its ink: what a slip should contain."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.fonts import sc_font

    font = ImageFont.truetype(str(sc_font("Bold" if bold else "Regular")), px)
    img = Image.new("L", (int(font.getlength(text)) + 8, px * 2), 255)
    ImageDraw.Draw(img).text((4, px // 2), text, font=font, fill=0)
    arr = np.where(np.asarray(img) < 150, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(arr == 0)
    return arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def best_match(page, text: str, *, bold: bool = False) -> float:
    """How well ``text`` appears anywhere on ``page`` (PIL image): 1.0 is a perfect match."""
    import cv2
    import numpy as np

    arr = np.asarray(page.convert("L"))
    tmpl = text_template(text, bold=bold)
    if tmpl.shape[0] > arr.shape[0] or tmpl.shape[1] > arr.shape[1]:
        return 0.0
    return float(cv2.matchTemplate(arr, tmpl, cv2.TM_CCOEFF_NORMED).max())
