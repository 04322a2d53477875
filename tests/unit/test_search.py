"""Matter search: by name, pinyin, pinyin initials and English, over the county's catalog."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.search import MatterSearch, initials, life_events_with, normalize

CATALOG = load_catalog(default_catalog_dir())
SEARCH = MatterSearch(CATALOG)
NAMES = {
    m.code: "".join(c for c in m.name.zh if "\u4e00" <= c <= "\u9fff")
    for m in CATALOG.matters.values()
}


def test_pinyin_initials_find_the_birth_registration_first():
    # Given a citizen who types the initials of 出生登记
    hits = SEARCH.search("csdj")
    # Then 出生登记（新生儿户口登记）is the first result, matched by pinyin
    assert hits[0].code == "hukou_birth"
    assert hits[0].by == "pinyin"


@pytest.mark.parametrize(("query", "first"), [
    ("出生登记", "hukou_birth"),
    ("chushengdengji", "hukou_birth"),
    ("出生dj", "hukou_birth"),  # a chosen word, then initials still being typed
    ("chusdj", "hukou_birth"),  # whole and partial syllables mixed
    ("CSDJ", "hukou_birth"),  # the letters key types capitals
    ("ｃｓｄｊ", "hukou_birth"),  # full-width letters
    ("cs dj", "hukou_birth"),
    ("契税", "deed_tax"),
    ("qishui", "deed_tax"),
    ("sbk", "social_card_newborn"),  # 社会保障卡: the usual short form, characters apart
    ("社保卡", "social_card_newborn"),
])  # fmt: skip
def test_what_citizens_type_finds_the_matter_they_mean(query, first):
    assert SEARCH.codes(query)[0] == first


def test_a_match_at_the_start_of_a_name_ranks_above_one_inside_it():
    hits = SEARCH.search("hk")
    by_code = {h.code: h.score for h in hits}
    # 户口迁入登记 starts with hk; 出生登记（新生儿户口登记）has it inside
    assert by_code["hukou_move_in"] > by_code["hukou_birth"]
    assert hits[0].code == "hukou_move_in"


def test_english_words_find_a_matter_and_rank_first_on_the_english_screen():
    assert "birth_medical_cert" in SEARCH.codes("birth certificate", "en")
    assert SEARCH.codes("deed", "en")[0] == "deed_tax"
    assert SEARCH.search("deed", "en")[0].by == "english"


def test_an_empty_or_unmatched_query_finds_nothing():
    assert SEARCH.search("") == []
    assert SEARCH.search("   ") == []
    assert SEARCH.search("qqqqqq") == []
    assert SEARCH.search("！？。") == []


def test_normalize_folds_case_width_and_spaces():
    assert normalize(" Chu Sheng'Deng ") == "chushengdeng"
    assert normalize("ＣＳＤＪ") == "csdj"


def test_every_reading_of_a_character_counts():
    # 长 reads chang and zhang; a matter named with it is found by either
    from kiosk.search import readings

    assert {"chang", "zhang"} <= readings("长")
    assert readings("（") == frozenset()


def test_the_life_events_that_include_a_matter():
    # 出生登记 is always in the birth bundle; the driving licence is cancelled by an answer
    assert life_events_with(CATALOG, "hukou_birth") == ["birth"]
    assert life_events_with(CATALOG, "driving_licence_cancel") == ["after_death"]
    assert life_events_with(CATALOG, "no_such_matter") == []


# -- properties over the whole catalog ------------------------------------------------

codes = st.sampled_from(sorted(CATALOG.matters))


@st.composite
def name_slices(draw):
    code = draw(codes)
    name = NAMES[code]
    i = draw(st.integers(0, len(name) - 1))
    j = draw(st.integers(i + 1, len(name)))
    return code, i, j


@settings(max_examples=300, deadline=None)
@given(name_slices())
def test_any_run_of_a_name_finds_its_matter(case):
    code, i, j = case
    assert code in SEARCH.codes(NAMES[code][i:j], limit=100)


@settings(max_examples=300, deadline=None)
@given(name_slices())
def test_any_run_of_a_names_initials_finds_its_matter(case):
    code, i, j = case
    assert code in SEARCH.codes(initials(CATALOG.matters[code].name.zh)[i:j], limit=100)


@settings(max_examples=100, deadline=None)
@given(codes)
def test_a_whole_name_puts_its_matter_first(code):
    hits = SEARCH.search(CATALOG.matters[code].name.zh, limit=100)
    assert hits[0].code == code


query_text = st.text(
    alphabet=st.sampled_from("abcdeghijklmnopqrstuwxyz 出生登记社保户口ABC"), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(query_text, st.sampled_from("abcdgjlsxyz 登记保"), st.sampled_from(["zh", "en"]))
def test_typing_one_more_character_never_finds_more(query, more, language):
    before = set(SEARCH.codes(query, language, limit=100))
    after = set(SEARCH.codes(query + more, language, limit=100))
    assert not before or after <= before


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["zh", "en"]))
def test_any_text_gives_distinct_known_matters_best_first(query, language):
    hits = SEARCH.search(query, language, limit=10)
    assert len(hits) <= 10
    assert len({h.code for h in hits}) == len(hits)
    assert all(h.code in CATALOG.matters for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
