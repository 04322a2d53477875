"""Touches injected into Kivy's event loop, as a finger on the screen would make.

The scripted walkthrough and the UI tests find a widget, then press and
release at its centre in window coordinates: the touch goes through the
window's normal dispatch, so whatever is drawn there receives it.
"""

from __future__ import annotations

from kivy.base import EventLoop
from kivy.input.motionevent import MotionEvent

_ids = iter(range(10_000, 10_000_000))


class InjectedTouch(MotionEvent):
    def __init__(self, x: float, y: float):
        win = EventLoop.window
        super().__init__("injected", next(_ids), {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                         is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args):
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


def press(x: float, y: float) -> InjectedTouch:
    touch = InjectedTouch(x, y)
    EventLoop.post_dispatch_input("begin", touch)
    return touch


def move(touch: InjectedTouch, x: float, y: float) -> None:
    """Drag the finger to ``x, y`` (window coordinates), as when signing."""
    win = EventLoop.window
    touch.move({"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)})
    EventLoop.post_dispatch_input("update", touch)


def release(touch: InjectedTouch) -> None:
    EventLoop.post_dispatch_input("end", touch)


def centre(widget) -> tuple[float, float]:
    return widget.to_window(widget.center_x, widget.center_y)


def walk(widget):
    yield widget
    for child in widget.children:
        yield from walk(child)


def find_action(root, action: str):
    """The visible button that sends ``action`` (BigButton.action), or None."""
    for w in walk(root):
        if getattr(w, "action", None) == action and not w.disabled and w.get_root_window():
            return w
    return None
