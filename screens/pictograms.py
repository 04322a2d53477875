"""Life events' pictures for the home screen's tiles, drawn in white strokes inside the
tile's blue circle: the catalog names one per life event (``icon = "baby"``). A picture
reads the same in both languages, where a Chinese character (婴, 学) meant nothing to a
citizen reading English. An icon not drawn here falls back to the character.

Each picture is a few shapes in a unit square (0..1 across and up, y up as in Kivy),
kept inside the circle's middle (about 0.22..0.78)."""

from __future__ import annotations

from kivy.graphics import Color, Ellipse, InstructionGroup, Line, Rectangle

Point = tuple[float, float]

# ("line", points, closed) · ("ring", (cx, cy), r) · ("disc", (cx, cy), r) · ("box", (x, y), (w, h))
ICONS: dict[str, tuple[tuple, ...]] = {
    "baby": (  # a swaddled baby: head, and the wrap
        ("ring", (0.5, 0.64), 0.1),
        ("line", [(0.36, 0.5), (0.64, 0.5), (0.6, 0.26), (0.4, 0.26)], True),
        ("line", [(0.4, 0.42), (0.6, 0.36)], False),
    ),
    "school": (  # an open book
        ("line", [(0.5, 0.3), (0.27, 0.34), (0.27, 0.7), (0.5, 0.66)], True),
        ("line", [(0.5, 0.3), (0.73, 0.34), (0.73, 0.7), (0.5, 0.66)], True),
    ),
    "work": (  # a briefcase
        ("line", [(0.26, 0.28), (0.74, 0.28), (0.74, 0.58), (0.26, 0.58)], True),
        ("line", [(0.42, 0.58), (0.42, 0.67), (0.58, 0.67), (0.58, 0.58)], False),
        ("line", [(0.26, 0.44), (0.74, 0.44)], False),
    ),
    "home-move": (  # a house, and an arrow leaving it
        ("line", [(0.24, 0.28), (0.24, 0.5), (0.39, 0.65), (0.54, 0.5), (0.54, 0.28)], True),
        ("line", [(0.58, 0.4), (0.78, 0.4)], False),
        ("line", [(0.71, 0.47), (0.78, 0.4), (0.71, 0.33)], False),
    ),
    "medical": (  # a cross
        ("box", (0.44, 0.27), (0.12, 0.46)),
        ("box", (0.27, 0.44), (0.46, 0.12)),
    ),
    "retire": (  # a clock: the working years done
        ("ring", (0.5, 0.5), 0.23),
        ("line", [(0.5, 0.5), (0.5, 0.65)], False),
        ("line", [(0.5, 0.5), (0.61, 0.44)], False),
    ),
    "memorial": (  # a candle and its flame
        ("box", (0.43, 0.26), (0.14, 0.3)),
        ("line", [(0.5, 0.6), (0.44, 0.68), (0.5, 0.78), (0.56, 0.68)], True),
    ),
    "car": (  # a car from the side, two wheels
        ("line", [(0.22, 0.38), (0.22, 0.5), (0.33, 0.5), (0.4, 0.62), (0.6, 0.62),
                  (0.67, 0.5), (0.78, 0.5), (0.78, 0.38)], True),
        ("disc", (0.35, 0.36), 0.065),
        ("disc", (0.65, 0.36), 0.065),
    ),
    "house": (  # a house with its door
        ("line", [(0.28, 0.27), (0.28, 0.5), (0.5, 0.7), (0.72, 0.5), (0.72, 0.27)], True),
        ("box", (0.45, 0.27), (0.1, 0.15)),
    ),
    "shop": (  # a shopfront under its awning
        ("line", [(0.3, 0.27), (0.3, 0.52), (0.7, 0.52), (0.7, 0.27)], True),
        ("line", [(0.25, 0.52), (0.3, 0.68), (0.7, 0.68), (0.75, 0.52)], True),
        ("box", (0.45, 0.27), (0.1, 0.15)),
    ),
    "crane": (  # a tower crane: mast, jib, hook
        ("line", [(0.38, 0.26), (0.38, 0.72)], False),
        ("line", [(0.28, 0.72), (0.76, 0.72)], False),
        ("line", [(0.38, 0.62), (0.48, 0.72)], False),
        ("line", [(0.68, 0.72), (0.68, 0.52)], False),
        ("line", [(0.3, 0.26), (0.46, 0.26)], False),
    ),
    "bank": (  # a bank's columns under a pediment
        ("line", [(0.26, 0.6), (0.5, 0.74), (0.74, 0.6)], True),
        ("line", [(0.34, 0.32), (0.34, 0.56)], False),
        ("line", [(0.5, 0.32), (0.5, 0.56)], False),
        ("line", [(0.66, 0.32), (0.66, 0.56)], False),
        ("line", [(0.26, 0.28), (0.74, 0.28)], False),
    ),
}


def draw(name: str, x: float, y: float, side: float) -> InstructionGroup | None:
    """The picture ``name`` drawn in white in the square at (``x``, ``y``) of ``side``;
    None when there is no such picture."""
    shapes = ICONS.get(name)
    if shapes is None or side <= 0:
        return None
    group = InstructionGroup()
    group.add(Color(1, 1, 1, 1))
    width = max(1.5, side * 0.035)

    def at(u: float, v: float) -> Point:
        return x + u * side, y + v * side

    for kind, *args in shapes:
        if kind == "line":
            points, closed = args
            group.add(Line(points=[c for u, v in points for c in at(u, v)], width=width,
                           close=closed, joint="round", cap="round"))  # fmt: skip
        elif kind == "ring":
            (u, v), r = args
            group.add(Line(circle=(*at(u, v), r * side), width=width))
        elif kind == "disc":
            (u, v), r = args
            cx, cy = at(u, v)
            group.add(Ellipse(pos=(cx - r * side, cy - r * side), size=(2 * r * side,) * 2))
        elif kind == "box":
            (u, v), (w, h) = args
            group.add(Rectangle(pos=at(u, v), size=(w * side, h * side)))
    return group
