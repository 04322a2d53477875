"""What a screen shows outside its box: a widget drawn over its neighbours because the
box that lays it out is too small for what it holds (a long English line, large type, a
landscape screen). A vertical BoxLayout whose children are taller than it lays the top
ones out above its own top: over the title, as on the queue-ticket screen in landscape
large type. Pure over a widget tree; the walkthrough checks each screen it shoots."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.layout import Layout

SLACK = 2.0  # px: rounding in layouts


def _shown(w) -> bool:
    if isinstance(w, Layout) and not w.children:  # an empty box (a keyboard's, put away)
        return False
    return w.opacity > 0 and w.width > 1 and w.height > 1


def _name(w) -> str:
    text = getattr(w, "text", "")
    label = f" {text[:30]!r}" if isinstance(text, str) and text else ""
    action = getattr(w, "action", "")
    return f"{type(w).__name__}{label}{f' [{action}]' if action else ''}"


def _path(w) -> str:
    names = []
    while w is not None and len(names) < 6:
        names.append(type(w).__name__)
        w = w.parent
    return " < ".join(names)


def spilled(root) -> list[str]:
    """Each shown widget of a BoxLayout or GridLayout under ``root`` that lies partly outside
    that layout (by more than SLACK px), said as "what, in which layout, by how much".
    A ScrollView's content is not checked against the view (it scrolls, and the view clips
    it), nor is anything hidden (opacity 0) or of no size."""
    out: list[str] = []

    def visit(w) -> None:
        if not _shown(w):
            return
        if isinstance(w, BoxLayout | GridLayout):
            for c in w.children:
                if not _shown(c):
                    continue
                over = max(c.top - w.top, w.y - c.y, c.right - w.right, w.x - c.x)
                if over > SLACK:
                    out.append(f"{_name(c)} outside {_name(w)} by {over:.0f} px"
                               f" (in {_path(w)}; {[round(v) for v in (*c.pos, *c.size)]} in"
                               f" {[round(v) for v in (*w.pos, *w.size)]})")
        for c in w.children:
            visit(c)

    visit(root)
    return out
