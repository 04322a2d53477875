"""Time limit of a bundle: parallel takes the longest, a chain is compressed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from kiosk.catalog import Bilingual, Matter, default_catalog_dir, load_catalog
from kiosk.errors import ValidationError
from kiosk.guidance import resolve
from kiosk.timelimits import bundle_limit, chain_days, maximal_chains
from tests.unit.catalog_strategies import catalog_and_answers


def matter(code: str, legal: int, promised: int) -> Matter:
    return Matter(code, Bilingual(code, code), "d", legal, promised, Bilingual("", ""), ("f",), ())


M = {
    "a": matter("a", 20, 10),
    "b": matter("b", 20, 5),
    "c": matter("c", 30, 3),
    "d": matter("d", 1, 1),
}


def test_one_matter_takes_its_promised_limit():
    assert bundle_limit(M, ["a"], []).days == 10


def test_parallel_matters_take_the_longest_promised_limit():
    assert bundle_limit(M, ["a", "b", "c"], []).days == 10


def test_a_chain_takes_thirty_percent_of_its_legal_sum_rounded_up():
    # a → b → c: legal 70 → ceil(21.0) = 21, promised sum 18 caps it at 18
    assert chain_days([M["a"], M["b"], M["c"]]) == 18
    # b → c: legal 50 → 15, promised sum 8 → 8
    assert chain_days([M["b"], M["c"]]) == 8
    slow = [matter("x", 31, 30), matter("y", 30, 30)]
    assert chain_days(slow) == 30  # ceil(0.3 × 61) = 19, but never below the slowest promise
    fast_legal = [matter("x", 20, 15), matter("y", 13, 10)]
    assert chain_days(fast_legal) == 15  # ceil(9.9) = 10 < 15: the slowest promise wins


def test_a_mixed_graph_takes_its_longest_compressed_chain():
    # a → b, a → c, d alone: chains (a, b) and (a, c) and (d,)
    limit = bundle_limit(M, ["a", "b", "c", "d"], [("a", "b"), ("a", "c")])
    assert set(maximal_chains(["a", "b", "c", "d"], [("a", "b"), ("a", "c")])) == {
        ("a", "b"),
        ("a", "c"),
        ("d",),
    }
    assert limit.days == max(chain_days([M["a"], M["b"]]), chain_days([M["a"], M["c"]]), 1) == 13
    assert limit.critical_path == ("a", "c")


def test_order_is_transitive_through_unselected_matters():
    assert maximal_chains(["a", "c"], [("a", "b"), ("b", "c")]) == [("a", "c")]


def test_a_cycle_is_a_clear_error():
    with pytest.raises(ValidationError, match="cycle"):
        bundle_limit(M, ["a", "b"], [("a", "b"), ("b", "a")])


def test_the_construction_bundle_is_about_seventy_percent_shorter_than_its_legal_sum():
    catalog = load_catalog(default_catalog_dir())
    event = catalog.life_events["construction"]
    plan = resolve(catalog, event, {"land": "granted", "special": "yes"}, {})
    limit = bundle_limit(catalog.matters, plan.matters, event.order)
    legal = sum(catalog.matters[m].legal_days for m in plan.matters)
    assert limit.days == 19 and legal == 61
    assert (
        limit.critical_path[0] == "project_filing"
        and limit.critical_path[-1] == "construction_permit"
    )


@settings(max_examples=150, deadline=None)
@given(catalog_and_answers())
def test_the_bundle_is_never_promised_before_its_longest_single_matter(case):
    catalog, answers = case
    event = catalog.life_events["ev"]
    plan = resolve(catalog, event, answers, {})
    limit = bundle_limit(catalog.matters, plan.matters, event.order)
    assert limit.days >= max(catalog.matters[m].promised_days for m in plan.matters)
    assert (
        limit.days <= sum(catalog.matters[m].promised_days for m in plan.matters) or limit.days == 0
    )
    # every selected matter lies on some maximal chain
    chains = maximal_chains(plan.matters, event.order)
    assert {m for c in chains for m in c} == set(plan.matters)
