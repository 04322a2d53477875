"""Pinyin input for the on-screen keyboard: latin letters in, Chinese candidates out.

pypinyin maps hanzi → pinyin; we build the reverse index from its own data
(``pinyin_dict``: codepoint → readings, ``phrases_dict``: word → readings)
once, lazily, and keep it for the life of the process.

No word-frequency list ships with any installed package, so candidates are
ranked by what we do have:

1. a small hand list of the characters a kiosk form needs most: common
   surnames, given-name characters and address characters (省市县镇乡村…);
2. the GB2312 level of the character (level 1 is the 3,755 most common
   characters; Python's own codec tells us, no data file needed);
3. whether the typed syllable is the character's first (main) reading;
4. how many of pypinyin's phrases use the character with that reading.

Multi-syllable input offers whole words first (pypinyin's phrases, a few
built-in form words, and words the caller passes in, e.g. the county's place
names from the catalog), then a guess made of the best character for each
syllable (so "zhangwei" offers 张伟 although no dictionary lists that name),
then characters for the first syllable. A buffer that does not start with a
whole syllable ("zh", or "w" left after choosing 张) offers characters whose
pinyin starts with it.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.catalog.model import Catalog

MAX_BUFFER = 30  # letters; more than any name or place a citizen types in one go
MAX_SYLLABLE = 6  # "zhuang", "shuang"

# The hand list, most wanted first. Surnames lead for the first character
# typed; later characters of a multi-syllable guess prefer name and address
# characters (张 + 伟, 洲 + 湖).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤欧"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英霞平刚桂华建国文红玉兰云峰辉斌波宇浩凯鹏晨欣婷雪"
    "梅琳丹萍慧玲燕鑫俊海亮林东志春宏成德永福荣生龙佳新子一晓小飞梓涵轩诗雨思怡豪翠珍凤花"
)
PLACES = (
    "省市县区镇乡村街道路号组栋单元室楼巷社委会居江西吉安福洲湖南北东中山新城园家里屯庄门桥大"
    "坊坑田溪塘岭"
)
NUMBERS = "一二三四五六七八九十零百千两"
# Surnames whose surname reading is not their first reading in pypinyin.
SURNAME_READINGS = {"曾": "zeng", "覃": "qin", "单": "shan", "查": "zha", "仇": "qiu", "朴": "piao"}
# Words a form needs that pypinyin's phrase list (made for telling readings
# apart, not for input) lacks.
FORM_WORDS = (
    "身份证",
    "地址",
    "街道",
    "社区",
    "小区",
    "村委会",
    "居委会",
    "单元",
    "号楼",
    "电话",
    "手机",
    "江西",
    "江西省",
    "吉安",
    "吉安市",
    "安福",
    "安福县",
    "中国",
    "汉族",
    "公司",
    "学校",
    "医院",
)

_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")
_VOWELS = set("aeiouv")


def plain(reading: str) -> str:
    """A toned reading as typed on a keyboard: zhāng → zhang, lǜ → lv."""
    return reading.translate(_TONE_MARKS)


def _is_hanzi(ch: str) -> bool:
    # URO and extension A: the font has them; compatibility ideographs are
    # duplicates of URO characters and would show twice.
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def gb2312_level(ch: str) -> int:
    """1 for the 3,755 common characters of GB2312, 2 for its second level, 3 otherwise."""
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return 3
    return 1 if len(raw) == 2 and raw[0] <= 0xD7 else 2


@dataclass(frozen=True)
class Candidate:
    """One thing the citizen can choose.

    ``syllables`` is the pinyin of each character of ``text``; ``consumed`` is
    how many letters of the buffer choosing it uses up. When ``partial`` only
    the start of its one syllable was typed ("zh" for 张, zhang).
    """

    text: str
    syllables: tuple[str, ...]
    consumed: int
    partial: bool = False


@dataclass(frozen=True)
class _Index:
    chars: dict[str, list[str]]  # syllable → characters, best first (for a first position)
    later: dict[str, str]  # syllable → best character for a later position of a guess
    words: dict[str, list[tuple[str, tuple[str, ...]]]]  # concatenated pinyin → words, best first
    syllables: frozenset[str]
    prefixes: frozenset[str]  # every proper prefix of a syllable
    boosted: dict[str, dict[str, int]]  # syllable → its hand-listed characters and their rank


def _hand_rank(order: str) -> dict[str, int]:
    rank: dict[str, int] = {}
    for ch in order:
        rank.setdefault(ch, len(rank))
    return rank


@cache
def _base_index() -> tuple[dict[str, list[str]], dict[str, str], dict, dict, dict]:
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    readings: dict[str, list[str]] = {}
    for cp, text in pinyin_dict.items():
        ch = chr(cp)
        if _is_hanzi(ch):
            readings[ch] = [plain(r) for r in text.split(",")]
    level = {ch: gb2312_level(ch) for ch in readings}

    uses: dict[tuple[str, str], int] = defaultdict(int)  # (char, syllable) → phrases using it
    words: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for word, per_char in phrases_dict.items():
        syl = tuple(plain(r[0]) for r in per_char)
        if len(syl) != len(word) or not all(
            s in readings.get(c, ()) for c, s in zip(word, syl, strict=True)
        ):
            continue  # a phrase whose reading pypinyin's own character table lacks
        for c, s in zip(word, syl, strict=True):
            uses[c, s] += 1
        words["".join(syl)].append((word, syl))

    first_rank = _hand_rank(SURNAMES + GIVEN + PLACES + NUMBERS)
    later_rank = _hand_rank(GIVEN + PLACES + NUMBERS + SURNAMES)
    by_syl: dict[str, dict[str, int]] = defaultdict(dict)  # syllable → {char: nth reading}
    for ch, rs in readings.items():
        for nth, syl in enumerate(rs):
            if syl.isascii() and syl.isalpha() and not _VOWELS.isdisjoint(syl):
                by_syl[syl].setdefault(ch, nth)

    def key(hand: dict[str, int], ch: str, syl: str, nth: int):
        wanted = nth == 0 or SURNAME_READINGS.get(ch) == syl
        return (
            hand[ch] if wanted and ch in hand else len(hand),
            level[ch],
            nth > 0,
            -uses.get((ch, syl), 0),
            ord(ch),
        )

    chars, later, boosted = {}, {}, {}
    for syl, seen in by_syl.items():
        chars[syl] = sorted(seen, key=lambda c: key(first_rank, c, syl, seen[c]))
        later[syl] = min(seen, key=lambda c: key(later_rank, c, syl, seen[c]))
        boosted[syl] = {
            c: r
            for c in chars[syl][:12]
            if (r := key(first_rank, c, syl, seen[c])[0]) < len(first_rank)
        }

    def word_key(item):
        word, syl = item
        return (
            max(level[c] for c in word),
            -sum(math.log1p(uses.get(cs, 0)) for cs in zip(word, syl, strict=True)),
        )

    for found in words.values():
        if len(found) > 1:
            found.sort(key=word_key)
    return chars, later, dict(words), readings, boosted


_building = threading.Lock()  # the keyboard builds the index in a thread; typing may ask at once


def _index(extra: tuple[str, ...]) -> _Index:
    with _building:
        return _built_index(extra)


@cache
def _built_index(extra: tuple[str, ...]) -> _Index:
    from pypinyin import Style, lazy_pinyin

    chars, later, base_words, readings, boosted = _base_index()
    words = dict(base_words)
    # Caller's words and form words first: they are what this kiosk's citizens type.
    for word in reversed(extra + FORM_WORDS):
        syl = tuple(
            lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, errors=lambda s: [""] * len(s))
        )
        if len(syl) != len(word) or not all(
            s in readings.get(c, ()) for c, s in zip(word, syl, strict=True)
        ):
            continue
        key = "".join(syl)
        words[key] = [(word, syl)] + [w for w in words.get(key, []) if w[0] != word]
    syllables = frozenset(chars)
    prefixes = frozenset(s[:i] for s in syllables for i in range(1, len(s)))
    return _Index(chars, later, words, syllables, prefixes, boosted)


def catalog_words(catalog: Catalog) -> list[str]:
    """Place names worth offering whole: the county and every service point's town."""
    found: list[str] = []
    texts = [catalog.county.zh] + [p.address for p in catalog.service_points.values()]
    for text in texts:
        for part in re.findall(r"[^省市县区镇乡]+[省市县区镇乡]", text):
            for word in (part, part[:-1]):
                if len(word) >= 2 and word not in found:
                    found.append(word)
    return found


class PinyinComposer:
    """Accumulates typed latin letters into a pinyin buffer and offers candidates.

    >>> c = PinyinComposer()
    >>> for letter in "zhang": c.type(letter)
    >>> c.choose(c.candidates().index("张"))
    '张'
    """

    def __init__(self, words: Iterable[str] = ()):
        self._words = tuple(words)
        self._buffer = ""
        self._ranked: list[Candidate] | None = None

    @property
    def buffer(self) -> str:
        return self._buffer

    def type(self, letter: str) -> bool:
        """Add one latin letter (either case). False when the buffer is full.

        :raises ValueError: ``letter`` is not a single latin letter.
        """
        if len(letter) != 1 or not ("a" <= letter.lower() <= "z"):
            raise ValueError(f"not a latin letter: {letter!r}")
        if len(self._buffer) >= MAX_BUFFER:
            return False
        self._set(self._buffer + letter.lower())
        return True

    def backspace(self) -> bool:
        """Remove the last letter; False when the buffer was already empty."""
        if not self._buffer:
            return False
        self._set(self._buffer[:-1])
        return True

    def clear(self) -> None:
        self._set("")

    def candidates(self, limit: int = 8, page: int = 0) -> list[str]:
        """The texts of one page of candidates, best first."""
        start = max(page, 0) * limit
        return [c.text for c in self.ranked()[start : start + limit]]

    def count(self) -> int:
        """How many candidates there are in all pages."""
        return len(self.ranked())

    def choose(self, i: int) -> str:
        """Take candidate ``i`` (its index in the whole ranked list, i.e.
        ``page * limit + position``); the letters it matched leave the buffer,
        the rest stays for the next choice.

        :raises IndexError: there is no candidate ``i``.
        """
        ranked = self.ranked()
        if not 0 <= i < len(ranked):
            raise IndexError(f"no candidate {i} (there are {len(ranked)})")
        chosen = ranked[i]
        self._set(self._buffer[chosen.consumed :])
        return chosen.text

    def warm(self) -> None:
        """Build the index now (about a second, safe from any thread) instead of on the first letter."""
        _index(self._words)

    def ranked(self) -> list[Candidate]:
        """Every candidate for the current buffer, best first (cached until it changes)."""
        if self._ranked is None:
            self._ranked = _rank(self._buffer, _index(self._words)) if self._buffer else []
        return self._ranked

    def _set(self, buffer: str) -> None:
        if buffer != self._buffer:
            self._buffer = buffer
            self._ranked = None


def _rank(buf: str, ix: _Index) -> list[Candidate]:
    n = len(buf)
    # tail_ok[i]: buf[i:] is whole syllables, perhaps ending in the start of one,
    # so a candidate that stops at i leaves something still typeable.
    tail_ok = [False] * n + [True]
    for i in range(n - 1, -1, -1):
        tail_ok[i] = buf[i:] in ix.prefixes or any(
            buf[i:j] in ix.syllables and tail_ok[j]
            for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1)
        )
    out: dict[str, tuple[tuple, Candidate]] = {}

    def offer(sort_key: tuple, cand: Candidate) -> None:
        if cand.text not in out or sort_key < out[cand.text][0]:
            out[cand.text] = (sort_key, cand)

    for k in range(1, n + 1):
        head, first = buf[:k], (not tail_ok[k], -k)
        for order, (word, syl) in enumerate(ix.words.get(head, ())):
            offer(first + (len(syl), 0, order), Candidate(word, syl, k))
        if head in ix.syllables:
            for order, ch in enumerate(ix.chars[head]):
                offer(first + (1, 1, order), Candidate(ch, (head,), k))
    for syl in _segmentations(buf, ix):
        if len(syl) > 1:  # the best character for each syllable: names and places no list has
            guess = ix.chars[syl[0]][0] + "".join(ix.later[s] for s in syl[1:])
            offer((False, -n, len(syl), 1, 0), Candidate(guess, syl, n))
    if not out:
        _offer_completions(buf, ix, offer)
    return [cand for _key, cand in sorted(out.values(), key=lambda kc: kc[0])]


def _segmentations(buf: str, ix: _Index, limit: int = 2) -> list[tuple[str, ...]]:
    """Up to ``limit`` ways to read all of ``buf`` as syllables, fewest syllables first."""
    best: dict[int, list[tuple[str, ...]]] = {len(buf): [()]}
    for i in range(len(buf) - 1, -1, -1):
        ways = [
            (buf[i:j],) + rest
            for j in range(i + 1, min(len(buf), i + MAX_SYLLABLE) + 1)
            if buf[i:j] in ix.syllables
            for rest in best.get(j, ())
        ]
        if ways:
            best[i] = sorted(ways, key=len)[:limit]
    found = best.get(0, [])
    return [w for w in found if len(w) == len(found[0])]  # xi-an-fu is no guess for xian-fu


def _offer_completions(buf: str, ix: _Index, offer) -> None:
    """For a buffer that starts inside a syllable ("zh"): characters whose pinyin starts there."""
    k = max(
        (i for i in range(1, min(len(buf), MAX_SYLLABLE) + 1) if buf[:i] in ix.prefixes), default=0
    )
    if not k:
        return
    stem = buf[:k]
    for syl in ix.syllables:
        if syl.startswith(stem):
            hand = ix.boosted[syl]
            for order, ch in enumerate(ix.chars[syl][:40]):
                offer(
                    (hand.get(ch, 10**6), order, len(syl), syl),
                    Candidate(ch, (syl,), k, partial=True),
                )
