"""The signature pad of a deferred material in a real window: where it sits (beside the
list in landscape, under it in portrait), how much of the list stays in view, and whether
the signature made on it is still whole after the screen lays out again (large type: the
words and buttons round the pad grow, and the pad moves). Run by tests/ui/test_signature.py
in its own process (Kivy makes one window per process):
``python tests/ui/signature_app.py OUT_DIR WIDTH HEIGHT``.

Prints one JSON line: the list's and the pad's rectangles in window pixels, the dark
pixels of the exported signature (how many, and where) before and after the change, and a screenshot.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ink(png: bytes) -> dict:
    """The strokes in a signature image: how many dark pixels, and where (the box round
    them, in the image's pixels; the pad itself is near white)."""
    from PIL import Image

    grey = Image.open(io.BytesIO(png)).convert("L")
    dark = grey.point(lambda v: 255 if v < 100 else 0)
    return {"pixels": sum(grey.histogram()[:100]), "box": dark.getbbox()}


async def script(app, out: Path) -> dict:
    from kiosk.cli import AFTER_DEATH_ANSWERS
    from screens.walkthrough import until
    from tests.support.window_child import applying, attract, rect

    w = await attract(app, out)
    screen = await applying(app, "after_death", AFTER_DEATH_ANSWERS, "materials")
    await w.drawn()
    list_before = rect(screen.ids.scroll)
    await w.tap("defer:driving_licence")  # 容缺: the licence brought later, with a promise
    await until(lambda: screen.pad is not None, 5, "the signature pad")
    await w.sign()
    await w.drawn()
    got = {"list_before": list_before, "list": rect(screen.ids.scroll), "pad": rect(screen.pad),
           "sign_again": rect(screen._sign_again),
           "signed": screen.pad.signed, "ink": ink(screen.pad.png())}  # fmt: skip
    got["screenshot"] = str(await w.screenshot("signature"))
    await w.tap("elderly")  # large type: the words and buttons round the pad grow
    await until(lambda: app.scale > 1, 5, "large type")
    await w.drawn()
    got.update(pad_after=rect(screen.pad), ink_after=ink(screen.pad.png()),
               sign_again_after=rect(screen._sign_again),
               screenshot_large=str(await w.screenshot("signature-large")))  # fmt: skip
    # A signature gone wrong is made again: the pad is cleared, and a promise not yet
    # signed again does not let the citizen on
    await w.tap("sign_again")
    await w.drawn()
    got.update(cleared_signed=screen.pad.signed, cleared_ink=ink(screen.pad.png()))
    await w.tap("materials_done")
    got["unsigned_error"] = screen.error
    return got


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from tests.support.window_child import kiosk_window

    kiosk_window(script)
