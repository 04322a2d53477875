"""Matter search (事项搜索): by name, by pinyin, by pinyin initials, or by English words.

Pure: an index built once from the catalog, then ``search(query)``. A citizen
types on the kiosk keyboard, so a query may mix what the keyboard gives:
Chinese characters already chosen, and latin letters still being typed. The
query matches a run of consecutive characters of a matter's Chinese name where

- a Chinese character of the query matches the same character, and
- latin letters match a character by any non-empty start of any of its
  readings: "c", "ch", "chu" all match 出; so initials ("csdj" → 出生登记),
  whole pinyin ("chushengdengji") and mixtures ("出生dj", "chusdj") all work.

Failing a run of consecutive characters, the same characters in order with
one or two others between each match too, ranked lower: the usual short forms
(社保 for 社会保障卡, sbk, 医保 for 医疗保险) find their matter.

Punctuation in names (（）《》、) is skipped. Every reading of a character
counts (长 is chang and zhang), so a citizen who knows another reading still
finds it. An English query matches a matter whose English name has a word
starting with each query word.

Typing one more letter never finds more: the results of a longer query are
among those of its start (the tests hold the index to that).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from kiosk.catalog.model import Catalog
from kiosk.pinyin_input import plain

MAX_QUERY = 40  # characters; longer than any matter name

# Scores: higher is better. A match at the start of the name reads as "this is
# what I typed"; a whole-name match beats both.
EXACT = 100
NAME_START = 80
NAME_INSIDE = 60
ENGLISH_START = 55
ENGLISH_INSIDE = 45
SPREAD_START = 40  # the query's characters appear in order with others between: 社保 → 社会保障卡
SPREAD_INSIDE = 30
MAX_GAP = 2  # characters passed over between two matched ones (社会保障卡: one each)
OWN_LANGUAGE_BONUS = 30  # an English match on the English screen outranks a pinyin accident

_WORD = re.compile(r"[a-z0-9]+")


def _is_hanzi(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def normalize(query: str) -> str:
    """What the matcher compares: NFKC (full-width letters become ASCII), lower case,
    only Chinese characters, latin letters and digits (no spaces, apostrophes or
    punctuation, as in the names), at most MAX_QUERY characters."""
    q = unicodedata.normalize("NFKC", query).lower()
    return "".join(c for c in q if _is_hanzi(c) or c.isascii() and c.isalnum())[:MAX_QUERY]


@cache
def readings(ch: str) -> frozenset[str]:
    """Every toneless pinyin reading of one Chinese character (empty for others)."""
    if not _is_hanzi(ch):
        return frozenset()
    from pypinyin import Style, pinyin

    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda s: [""] * len(s))
    return frozenset(plain(r) for r in (found[0] if found else ()) if r and r.isascii())


@dataclass(frozen=True)
class Hit:
    """One result: the matter, how well it matched, and by what (for tests and logs)."""

    code: str
    score: int
    by: str  # "name" | "pinyin" | "english"


@dataclass(frozen=True)
class _Entry:
    code: str
    order: int
    chars: tuple[str, ...]  # the name's characters, punctuation skipped
    readings: tuple[frozenset[str], ...]
    words: tuple[str, ...]  # the English name's words, lower case


def _matches(
    q: str, j: int, entry: _Entry, i: int, gaps: bool, memo: dict, skipped: int = 0
) -> bool:
    """Can the query from ``j`` on be consumed by the name's characters from ``i`` on?
    With ``gaps``, up to MAX_GAP whole characters of the name may be passed over
    between two matched ones (``skipped``: how many were just passed over)."""
    if j == len(q):
        return True
    if i == len(entry.chars):
        return False
    key = (i, j, skipped)
    if key in memo:
        return memo[key]
    ch, qc = entry.chars[i], q[j]
    ok = qc == ch and _matches(q, j + 1, entry, i + 1, gaps, memo)
    if not ok and "a" <= qc <= "z":
        for r in entry.readings[i]:
            k = 0
            while not ok and k < len(r) and j + k < len(q) and q[j + k] == r[k]:
                k += 1
                ok = _matches(q, j + k, entry, i + 1, gaps, memo)
            if ok:
                break
    if not ok and gaps and j > 0 and skipped < MAX_GAP:
        ok = _matches(q, j, entry, i + 1, gaps, memo, skipped + 1)
    memo[key] = ok
    return ok


def _name_score(q: str, entry: _Entry) -> tuple[int, str]:
    """(score, by) of the Chinese name against ``q``; (0, "") when it does not match."""
    if q == "".join(entry.chars):
        return EXACT, "name"
    by = "pinyin" if any("a" <= c <= "z" for c in q) else "name"
    for gaps, start, inside in (
        (False, NAME_START, NAME_INSIDE),
        (True, SPREAD_START, SPREAD_INSIDE),
    ):
        memo: dict = {}
        for i in range(len(entry.chars)):
            if _matches(q, 0, entry, i, gaps, memo):
                return (start if i == 0 else inside), by
    return 0, ""


def _english_score(query: str, entry: _Entry) -> int:
    wanted = _WORD.findall(unicodedata.normalize("NFKC", query).lower())
    if not wanted or not entry.words:
        return 0
    if not all(any(w.startswith(x) for w in entry.words) for x in wanted):
        return 0
    return ENGLISH_START if entry.words[0].startswith(wanted[0]) else ENGLISH_INSIDE


class MatterSearch:
    """The search index of one catalog.

    >>> from kiosk.catalog import default_catalog_dir, load_catalog
    >>> s = MatterSearch(load_catalog(default_catalog_dir()))
    >>> s.search("csdj")[0].code
    'hukou_birth'
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        entries = []
        for order, m in enumerate(catalog.matters.values()):
            chars = tuple(c for c in unicodedata.normalize("NFKC", m.name.zh).lower()
                          if _is_hanzi(c) or c.isascii() and c.isalnum())  # fmt: skip
            usual = _usual_readings(chars)  # a phrase's reading may be missing from one character's
            entries.append(_Entry(
                code=m.code, order=order, chars=chars,
                readings=tuple(readings(c) | u for c, u in zip(chars, usual, strict=True)),
                words=tuple(_WORD.findall(m.name.en.lower())),
            ))  # fmt: skip
        self._entries = tuple(entries)

    def search(self, query: str, language: str = "zh", limit: int = 30) -> list[Hit]:
        """Matters matching ``query``, best first ([] for an empty query).

        Ties go to the shorter name (the more specific matter), then catalog order.
        """
        q = normalize(query)
        if not q:
            return []
        english = language.startswith("en")
        scored = []
        for e in self._entries:
            score, by = _name_score(q, e)
            if q.isascii():
                en = _english_score(query[: MAX_QUERY * 2], e)
                en += OWN_LANGUAGE_BONUS if english and en else 0
                if en > score:
                    score, by = en, "english"
            if score:
                scored.append((-score, len(e.chars), e.order, Hit(e.code, score, by)))
        scored.sort(key=lambda s: s[:3])
        return [s[3] for s in scored[:limit]]

    def codes(self, query: str, language: str = "zh", limit: int = 30) -> list[str]:
        return [h.code for h in self.search(query, language, limit)]


def _usual_readings(chars: tuple[str, ...]) -> list[frozenset[str]]:
    """Each character's reading in this name, as pypinyin reads the phrase (empty for non-hanzi)."""
    out: list[frozenset[str]] = []
    for c, r in zip(chars, _lazy(chars), strict=True):
        out.append(
            frozenset({plain(r)}) if _is_hanzi(c) and r and plain(r).isascii() else frozenset()
        )
    return out


def _lazy(chars: tuple[str, ...]) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    found = lazy_pinyin("".join(chars), style=Style.NORMAL, errors=lambda s: [""] * len(s))
    return found if len(found) == len(chars) else [""] * len(chars)


def initials(name: str) -> str:
    """The pinyin initials of a name by its usual reading (出生登记 → csdj), punctuation skipped."""
    chars = tuple(c for c in name if _is_hanzi(c))
    return "".join(plain(r)[:1] for r in _lazy(chars))


def life_events_with(catalog: Catalog, matter: str) -> list[str]:
    """Codes of the life events that can include ``matter``: always, or by an answer."""
    found = []
    for event in catalog.life_events.values():
        options = (o for q in event.questions for o in q.options)
        if matter in event.matters or any(matter in o.matters for o in options):
            found.append(event.code)
    return found
