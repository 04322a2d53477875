"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Each function takes plain numbers and labels and returns escaped SVG markup that
scales to its container (``viewBox`` with ``width="100%"``). Every bar carries its
value in ``data-value`` and a ``<title>`` (the browser's tooltip), so a person can
read the exact figure and a test can check it without measuring pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

FONT = 'font-family="inherit"'


def e(value: object) -> str:
    return escape(str(value), quote=True)


def nice_max(value: float, ticks: int = 4) -> tuple[float, float]:
    """An axis top at or above ``value`` and its tick step (1, 2 or 5 × 10ⁿ), for ``ticks`` lines."""
    if value <= 0:
        return float(ticks), 1.0  # an empty chart keeps a plain 0..n grid
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1:
        step = 1.0  # counts: no fractional grid lines
    return step * math.ceil(value / step), step


def _fmt(n: float) -> str:
    return f"{int(n):,}" if n == int(n) else f"{n:,.1f}"


def column_chart(bars: Sequence[tuple[str, str, float]], *, color: str, label: str,
                 width: int = 560, height: int = 200, unit: str = "") -> str:  # fmt: skip
    """Vertical bars over time: ``bars`` is (bucket key, axis label, value), in order.

    Axis labels are thinned so they never overlap (at least 46 units apart); an empty
    label is never drawn, so a caller marks only the ticks that matter (each midnight).
    """
    left, right, top, bottom = 40, 8, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, _, v in bars), default=0)
    ymax, step = nice_max(peak)
    parts = [f'<svg class="chart column" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="{e(label)}" {FONT} preserveAspectRatio="xMidYMid meet">']  # fmt: skip
    y = 0.0
    while y <= ymax + 1e-9:
        py = top + plot_h - plot_h * y / ymax
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py:.1f}" y2="{py:.1f}" '
                     f'class="{"axis" if y == 0 else "grid"}"/>'
                     f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end" class="tick">{_fmt(y)}</text>')  # fmt: skip
        y += step
    n = max(len(bars), 1)
    slot = plot_w / n
    bar_w = max(1.0, slot * (0.72 if n <= 40 else 0.86))
    last_label = -1e9  # labels keep 46 px apart; an empty one is never drawn
    for i, (key, axis, value) in enumerate(bars):
        h = plot_h * value / ymax if ymax else 0
        x = left + i * slot + (slot - bar_w) / 2
        tip = f"{axis or key}：{_fmt(value)}{unit}"
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                     f'height="{max(h, 0):.1f}" fill="{color}" rx="{min(3, bar_w / 3):.1f}" '
                     f'data-bucket="{e(key)}" data-value="{_fmt(value)}"><title>{e(tip)}</title></rect>')  # fmt: skip
        centre = left + i * slot + slot / 2
        if axis and centre - last_label >= 46:
            last_label = centre
            parts.append(f'<text x="{centre:.1f}" y="{height - 8}" '
                         f'text-anchor="middle" class="tick">{e(axis)}</text>')  # fmt: skip
    if peak == 0:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
                     'text-anchor="middle" class="nodata">暂无数据 No data</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def bar_list(rows: Sequence[tuple[str, str, float]], *, color: str, label: str,
             width: int = 560, row_h: int = 26, label_w: int = 190, unit: str = "") -> str:  # fmt: skip
    """Horizontal bars, one per row: (key, label, value), drawn in the order given."""
    if not rows:
        return (f'<svg class="chart bars" viewBox="0 0 {width} 60" width="100%" role="img" '
                f'aria-label="{e(label)}" {FONT}><text x="{width / 2}" y="34" text-anchor="middle" '
                f'class="nodata">暂无数据 No data</text></svg>')  # fmt: skip
    height = row_h * len(rows) + 6
    peak = max(v for _, _, v in rows) or 1
    track = width - label_w - 70
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{e(label)}" {FONT}>']  # fmt: skip
    for i, (key, name, value) in enumerate(rows):
        y = 3 + i * row_h
        w = track * value / peak
        short = name if len(name) <= 14 else name[:13] + "…"
        parts.append(
            f'<g data-key="{e(key)}" data-value="{_fmt(value)}"><title>{e(name)}：{_fmt(value)}{e(unit)}</title>'
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" class="label">{e(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{track}" height="{row_h - 9}" rx="4" class="track"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 0.0):.1f}" height="{row_h - 9}" rx="4" fill="{color}"/>'
            f'<text x="{label_w + track + 8}" y="{y + row_h / 2 + 4:.1f}" class="value">{_fmt(value)}</text></g>'
        )  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(rows: Sequence[tuple[str, str, Sequence[float]]], series: Sequence[tuple[str, str]],
                 *, label: str, width: int = 560, label_w: int = 170) -> str:  # fmt: skip
    """Horizontal bar groups: one group per row (key, label, values), one bar per series
    (name, colour), each series scaled to its own largest value so small measures still show."""
    if not rows:
        return bar_list([], color="", label=label, width=width)
    bar_h, gap = 9, 12
    group_h = bar_h * len(series) + gap
    height = group_h * len(rows) + 4
    track = width - label_w - 64
    peaks = [max((r[2][j] for r in rows), default=0) or 1 for j in range(len(series))]
    parts = [f'<svg class="chart grouped" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{e(label)}" {FONT}>']  # fmt: skip
    for i, (key, name, values) in enumerate(rows):
        y0 = 2 + i * group_h
        short = name if len(name) <= 12 else name[:11] + "…"
        parts.append(f'<g data-key="{e(key)}"><text x="{label_w - 8}" y="{y0 + group_h / 2 + 2:.1f}" '
                     f'text-anchor="end" class="label">{e(short)}</text>')  # fmt: skip
        for j, ((sname, colour), v) in enumerate(zip(series, values, strict=True)):
            y = y0 + j * bar_h
            w = track * v / peaks[j]
            parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 0.0):.1f}" height="{bar_h - 2}" '
                         f'rx="2" fill="{colour}" data-series="{e(sname)}" data-value="{_fmt(v)}">'
                         f'<title>{e(name)} · {e(sname)}：{_fmt(v)}</title></rect>'
                         f'<text x="{label_w + max(w, 0.0) + 5:.1f}" y="{y + bar_h - 2}" class="small">{_fmt(v)}</text>')  # fmt: skip
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def legend(series: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{e(n)}</span>' for n, c in series)
        + "</div>"
    )
