"""The promise signed for a deferred material (容缺): in landscape the pad sits beside the
materials list, which keeps its height (under the list it left room for a row and a half);
in portrait it sits under the list. The signature stays whole on the pad and in the image
sent with the submission when the screen lays out again. A real window under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.vision import shows_text
from tests.support.window_child import run_child

pytestmark = pytest.mark.ui
CHILD = Path(__file__).with_name("signature_app.py")


def overlaps(a, b) -> bool:
    """Whether two [x, y, width, height] rectangles share any area."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
def test_the_signature_pad_leaves_the_list_its_room_and_keeps_the_signature(tmp_path, size):
    got = run_child(CHILD, tmp_path, size)
    lx, ly, lw, lh = got["list"]
    px, py, pw, ph = got["pad"]
    if size[0] > size[1]:  # landscape: beside the list, which keeps its height
        assert px >= lx + lw and py + ph <= ly + lh + 1
        assert lh >= 0.95 * got["list_before"][3]
    else:  # portrait: under the list, across the page
        assert py + ph <= ly and pw >= 0.9 * lw
    # over the pad, what it promises: the deferred material by name, and by when
    assert shows_text(got["screenshot"], "请在下方签名，承诺于", [30])
    assert shows_text(got["screenshot"], "逝者机动车驾驶证", [30])
    assert ph >= 200 and got["signed"] and got["ink"]["pixels"] > 500
    # Large type turned on: the pad moves, and the signature goes with it, whole
    assert got["pad_after"] != got["pad"]
    assert got["ink_after"]["pixels"] >= 0.95 * got["ink"]["pixels"]
    # the strokes where the finger made them on the pad (the image's rows run top down)
    before, after = got["ink"]["box"], got["ink_after"]["box"]
    assert all(abs(a - b) <= 2 for a, b in zip(before, after, strict=True)), (before, after)
    # "sign again" lies nowhere on the pad, in either type size (over it, it hid a stroke's
    # end, and a tap there cleared a signature)
    for pad, button in ((got["pad"], got["sign_again"]), (got["pad_after"], got["sign_again_after"])):
        assert not overlaps(pad, button), (pad, button)
    # And "sign again" clears the pad: nothing is sent until a new signature is made
    assert not got["cleared_signed"] and got["cleared_ink"]["pixels"] < 50
    assert got["unsigned_error"] == "请先签名"
