"""Line breaking for Chinese text by its rules (避头尾, GB/T 15834 and W3C clreq):
no line starts with a closing mark (，。、；：？！）》” …) and none ends with an
opening one (（《“ …). A Latin word or number stays whole; a word longer than a
line is cut where it must.

The screens' labels wrap with this (screens.widgets): Kivy's own wrapping breaks
Chinese anywhere, so a comma could begin a line. Pure logic: the caller measures.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NO_START = frozenset("，。、；：？！）》」』】〕〉”’…—·～%‰,.;:?!)]}")  # 行首禁则
NO_END = frozenset("（《「『【〔〈“‘([{✓")  # 行尾禁则 (and a tick goes with what it ticks)
# a run of Latin letters, digits and their joiners (a masked number's stars too: 362425****1234
# broke at a star), with the spaces after it; else one character
_LATIN = r"[0-9A-Za-z\u00c0-\u024f@#&_\-+=/\\.,:;'%$*]"
# words of this kiosk's own that a line should not split: a life event's "…一件事" broke
# as "新生儿出生一/件事" (any other Chinese may break between any two characters)
WORDS = ("一件事", "身份证", "社保卡", "户口簿", "二维码", "电子证照", "收件凭证")
_UNIT = re.compile("|".join(WORDS) + "|" + _LATIN + r"+ *| +|.", re.S)
_WORDS = frozenset(WORDS)
# a Latin word: a letter or digit first
_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]" + _LATIN + "*")


def units(paragraph: str) -> list[str]:
    """What may not be split: a Latin word or number (with its trailing spaces), one of
    ``WORDS``, one Chinese character or mark."""
    return _UNIT.findall(paragraph)


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` as lines no wider than ``width`` (as ``measure`` says), broken by the
    rules above; the text's own line breaks kept. Spaces at a break are dropped."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, width, measure))
    return lines


def _wrap_paragraph(paragraph: str, width: float, measure: Callable[[str], float]) -> list[str]:
    out: list[str] = []
    line: list[str] = []
    used = 0.0
    pending = units(paragraph)
    i = 0
    while i < len(pending):
        unit = pending[i]
        ink = measure(unit.rstrip(" ")) if unit.strip() else 0.0  # trailing spaces may hang
        if ink > width and len(unit.rstrip(" ")) > 1:  # longer than a line: cut where it must
            pending[i : i + 1] = list(unit)
            continue
        if line and used + ink > width and unit in _WORDS and len("".join(line).strip()) < 2:
            pending[i : i + 1] = list(unit)  # kept whole, it would leave one character alone
            continue
        if line and used + ink > width and unit.strip():
            carry: list[str] = []
            # a closing mark may not begin the next line: the unit before it comes along
            while unit[0] in NO_START and len(line) > 1 and (not carry or carry[0][0] in NO_START):
                carry.insert(0, line.pop())
            # and an opening mark may not end this one (spaces at the break go)
            while len(line) > 1 and (not line[-1].strip() or line[-1].rstrip(" ")[-1] in NO_END):
                if (last := line.pop()).strip():
                    carry.insert(0, last)
            out.append("".join(line).rstrip(" "))
            line = carry
            used = sum(measure(u) for u in line)
        if not line and out and not unit.strip():  # no line begins with the space of a break
            i += 1
            continue
        line.append(unit)
        used += measure(unit)
        i += 1
    out.append("".join(line).rstrip(" "))
    return _no_widow(out, width, measure)


def _lone(line: str) -> bool:
    """One Chinese character alone on a line (with the closing marks after it, if any)."""
    ink = [u for u in units(line) if u.strip()]
    first = ink[0] if ink else ""
    return (
        len(first) == 1
        and ord(first) >= 0x2E80
        and first not in NO_START | NO_END
        and all(u in NO_START for u in ink[1:])
    )


def _lone_word(before: str, line: str) -> bool:
    """One Latin word alone on a line that a space parted from the Latin line before it."""
    ink = [u for u in units(line) if u.strip()]
    return (
        len(ink) == 1
        and _WORD.fullmatch(ink[0]) is not None
        and re.fullmatch(_LATIN, before[-1:]) is not None
    )


def _no_widow(lines: list[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """A paragraph whose last line is one character alone (a widow: "…一次" / "办"), or one
    English word ("…and track" / "progress"), looks cut off: the line before hands it one
    more character or word, as long as that line keeps two, neither line breaks a rule
    above, and the last line still fits."""
    if len(lines) < 2:
        return lines
    word = _lone_word(lines[-2], lines[-1])
    if not (word or _lone(lines[-1])):
        return lines
    before = units(lines[-2])
    moved: list[str] = []
    # no closing mark (nor a space) begins a line
    while before and (not moved or not moved[0].strip() or moved[0][0] in NO_START):
        moved.insert(0, before.pop())
    while before and (not before[-1].strip() or before[-1].rstrip(" ")[-1] in NO_END):
        if (last := before.pop()).strip():  # nor does an opening mark end one
            moved.insert(0, last)
    last = "".join(moved) + (" " if word else "") + lines[-1]  # the space the break took
    # the line before keeps two: Latin words, or Chinese characters (one of WORDS counts its own)
    kept = sum(len(u) if u in _WORDS else 1 for u in before if u.strip())
    if kept < 2 or measure(last) > width:
        return lines
    return [*lines[:-2], "".join(before).rstrip(" "), last]


def clip(
    lines: list[str], max_lines: int, width: float, measure: Callable[[str], float]
) -> list[str]:
    """At most ``max_lines`` of ``lines`` (0: all); when some are left out, the last one
    kept ends in "…" (within ``width``) so nobody takes a cut sentence for a whole one."""
    if not 0 < max_lines < len(lines):
        return lines
    kept = lines[:max_lines]
    whole = last = kept[-1]
    while last and measure(last + "…") > width:
        last = last[:-1]
    # an English word is cut at a space before it, not in its middle ("registrati…")
    cut_in_word = last != whole and re.match(_LATIN, whole[len(last)]) and re.match(_LATIN, last[-1:] or " ")
    if cut_in_word and " " in last.strip():
        last = last.rstrip(" ").rsplit(" ", 1)[0]
    kept[-1] = last.rstrip(" ，、；：,;:") + "…"
    return kept
