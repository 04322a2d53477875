"""Pinyin input: what a citizen typing a name or an address on the kiosk gets offered."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin

from kiosk.catalog import default_catalog_dir
from kiosk.catalog.load import load_catalog
from kiosk.pinyin_input import MAX_BUFFER, PinyinComposer, catalog_words

SYLLABLES = [
    "zhang",
    "wei",
    "an",
    "fu",
    "xian",
    "li",
    "ming",
    "zhou",
    "hu",
    "lv",
    "er",
    "shuang",
    "e",
    "o",
]


def typed(text: str, composer: PinyinComposer | None = None) -> PinyinComposer:
    composer = composer or PinyinComposer()
    for letter in text:
        composer.type(letter)
    return composer


def readings(ch: str) -> set[str]:
    """pypinyin's own readings of one character, as typed (ü as v)."""
    return set(pinyin(ch, style=Style.NORMAL, heteronym=True, v_to_u=False)[0])


def test_typing_a_common_surname_offers_it_first():
    # Given / When the citizen types "zhang"
    c = typed("zhang")
    # Then 张 is the first candidate
    assert c.candidates()[0] == "张"


def test_choosing_a_character_inserts_it_and_empties_the_buffer():
    c = typed("zhang")
    assert c.choose(c.candidates().index("张")) == "张"
    assert c.buffer == ""
    assert c.candidates() == []


def test_a_full_name_typed_in_one_go_is_offered_whole_on_the_first_page():
    c = typed("zhangwei")
    assert "张伟" in c.candidates(limit=8)
    assert c.choose(c.candidates().index("张伟")) == "张伟"
    assert c.buffer == ""


def test_a_place_name_typed_in_one_go_is_offered_whole():
    c = typed("anfu")
    assert c.candidates(limit=8)[0] == "安福"


def test_choosing_one_character_of_several_syllables_keeps_the_rest_for_the_next_choice():
    # Given "zhangwei" typed
    c = typed("zhangwei")
    # When only 张 is chosen
    assert c.choose(c.candidates().index("张")) == "张"
    # Then "wei" stays and 伟 is offered for it
    assert c.buffer == "wei"
    assert "伟" in c.candidates(limit=8)


def test_a_letter_left_over_still_offers_characters_that_start_with_it():
    # Given "zhangw": 张 consumes "zhang", leaving "w"
    c = typed("zhangw")
    c.choose(c.candidates().index("张"))
    assert c.buffer == "w"
    # Then surnames and name characters starting with w are offered
    assert {"王", "吴"} <= set(c.candidates(limit=8))
    c.choose(0)
    assert c.buffer == ""


def test_v_stands_for_u_umlaut_as_on_every_pinyin_keyboard():
    assert "绿" in typed("lv").candidates(limit=8)


def test_backspace_removes_the_last_letter_and_reports_an_empty_buffer():
    c = typed("zhangg")
    assert c.backspace() is True
    assert c.buffer == "zhang"
    c.clear()
    assert c.backspace() is False


def test_capital_letters_are_typed_as_pinyin_and_other_keys_are_refused():
    c = typed("ZHANG")
    assert c.buffer == "zhang"
    for bad in ("1", "", "ab", "ü", " "):
        with pytest.raises(ValueError):
            c.type(bad)
    assert c.buffer == "zhang"


def test_the_buffer_stops_growing_at_its_limit():
    c = typed("a" * MAX_BUFFER)
    assert c.type("a") is False
    assert len(c.buffer) == MAX_BUFFER


def test_pages_follow_each_other_and_choose_takes_the_index_in_the_whole_list():
    c = typed("shi")
    first, second = c.candidates(limit=6, page=0), c.candidates(limit=6, page=1)
    assert len(first) == len(second) == 6
    assert not set(first) & set(second)
    assert c.choose(6 + 2) == second[2]


def test_choosing_a_candidate_that_does_not_exist_raises_index_error():
    c = typed("zhang")
    with pytest.raises(IndexError):
        c.choose(c.count())


def test_place_words_from_the_catalog_are_offered_whole():
    # Given the county's place names from the real catalog
    words = catalog_words(load_catalog(default_catalog_dir()))
    assert {"安福县", "洲湖镇", "洲湖"} <= set(words)
    # When "zhouhu" is typed with those words
    c = typed("zhouhu", PinyinComposer(words))
    # Then the town's name comes first
    assert c.candidates()[0] == "洲湖"


letters = st.text(alphabet=string.ascii_lowercase, max_size=MAX_BUFFER + 5)
pinyin_like = st.lists(st.sampled_from(SYLLABLES), max_size=6).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(letters, pinyin_like, st.tuples(pinyin_like, letters).map("".join)))
def test_every_candidate_really_spells_the_letters_it_consumes(text):
    c = typed(text)
    assert c.buffer == text.lower()[:MAX_BUFFER]
    for cand in c.ranked()[:60]:
        consumed = c.buffer[: cand.consumed]
        spelled = "".join(cand.syllables)
        assert cand.consumed > 0
        assert len(cand.syllables) == len(cand.text)
        # each character really has the reading it was offered for (pypinyin's own answer)
        for ch, syl in zip(cand.text, cand.syllables, strict=True):
            assert syl in readings(ch), (cand, ch)
        if cand.partial:
            # only the start of the syllable was typed ("zh" for zhang)
            assert spelled.startswith(consumed) and len(spelled) > len(consumed)
        else:
            assert spelled == consumed, cand


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(string.ascii_letters), st.just("BS"), st.just("CHOOSE"))))
def test_no_sequence_of_letters_backspaces_and_choices_crashes(keys):
    c = PinyinComposer()
    for key in keys:
        if key == "BS":
            c.backspace()
        elif key == "CHOOSE":
            before = c.buffer
            if c.count():
                text = c.choose(0)
                assert text and len(c.buffer) < len(before)
        else:
            c.type(key)
        c.candidates(limit=8, page=1)
