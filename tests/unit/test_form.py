"""One form: every needed field once, identity pre-filled, values validated."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.errors import CardExpired, ValidationError
from kiosk.form import build_form
from kiosk.guidance import answer_paths, resolve
from kiosk.validation import check_card, check_id_number, check_phone
from tests.unit.cards import id_card, social_card
from tests.unit.catalog_strategies import catalog_and_answers

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


def death_plan(catalog):
    answers = {
        "proof": "have",
        "pension": "employee",
        "medical": "yes",
        "hpf": "yes",
        "licence": "yes",
    }
    return resolve(catalog, catalog.life_events["after_death"], answers, {})


def test_the_applicant_phone_is_asked_once_for_seven_matters(catalog):
    plan = death_plan(catalog)
    form = build_form(catalog, plan)
    assert len(plan.matters) == 7
    assert form.ids.count("applicant_phone") == 1
    assert sum("applicant_phone" in fs for fs in form.consumers.values()) == 7


def test_identity_fields_are_prefilled_from_the_id_card(catalog):
    form = build_form(catalog, death_plan(catalog))
    values = form.prefill(id_card())
    assert values == {"applicant_name": "李秀英", "applicant_id_number": "362429199003070020"}
    assert "applicant_name" not in {f.id for f in form.typed()}


def test_the_social_security_card_prefills_name_number_and_nation(catalog):
    answers = {"reason": "spouse", "insurance": "none", "id_card": "yes"}
    form = build_form(catalog, resolve(catalog, catalog.life_events["settle"], answers, {}))
    values = form.prefill(social_card())
    assert values["applicant_id_number"] == "362429199003070020"
    assert values["applicant_nation"] == "汉族"
    assert "applicant_hukou_address" not in values  # the social card has no address


def test_fields_are_ordered_by_group(catalog):
    form = build_form(catalog, death_plan(catalog))
    groups = [f.group for f in form.fields]
    assert groups.index("applicant") < groups.index("deceased") < groups.index("bank")
    assert groups == sorted(groups, key=catalog.group_order.index)


def test_validation_names_each_bad_field(catalog):
    form = build_form(catalog, death_plan(catalog))
    values = form.prefill(id_card()) | {
        "applicant_phone": "1380000",  # too short
        "deceased_id_number": "360829195001010011",  # wrong check digit
        "death_date": "2026-12-30",  # in the future
        "deceased_name": "李大山",
    }
    problems = form.validate(values, TODAY)
    assert problems["applicant_phone"] == "error.phone"
    assert problems["deceased_id_number"] == "error.id_check_digit"
    assert problems["death_date"] == "error.date_future"
    assert "deceased_name" not in problems
    assert problems["bank_account"] == "error.required"
    assert "deceased_social_card_number" not in problems  # optional


def test_id_check_digit_follows_gb_11643():
    assert check_id_number("11010519491231002X") is None
    assert check_id_number("110105194912310021") == "error.id_check_digit"
    assert check_id_number("1101051949") == "error.id_format"
    # a residence permit's and a 2023 foreign permanent resident's card's numbers pass
    assert check_id_number("810000199202023457") is None
    assert check_id_number("936840198807150013") is None
    assert check_id_number("810000199202023458") == "error.id_check_digit"
    # and a province's code where a county's goes is a wrong number, not stdnum's KeyError
    assert check_id_number("811000199001010001") == "error.id_format"


def test_phone_accepts_mobile_and_landline():
    assert check_phone("13912345678") is None
    assert check_phone("0796-7612345") is None
    assert check_phone("12345678901") == "error.phone"


def test_an_expired_id_card_is_refused():
    with pytest.raises(CardExpired):
        check_card(id_card(valid_to=dt.date(2026, 1, 1)), TODAY)


def test_a_card_with_a_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError) as err:
        check_card(id_card(id_number="362429199003070021"), TODAY)
    assert err.value.message_key == "error.id_check_digit"


def test_a_long_term_card_is_accepted():
    check_card(id_card(valid_to=None), TODAY)


def test_every_path_of_the_real_catalog_prefills_every_identity_field(catalog):
    for event in catalog.life_events.values():
        for answers, facts in answer_paths(event):
            form = build_form(catalog, resolve(catalog, event, answers, facts))
            values = form.prefill(id_card())
            assert {f.id for f in form.fields if f.prefill} == set(values)


@settings(max_examples=150, deadline=None)
@given(catalog_and_answers())
def test_the_form_never_asks_twice_and_never_misses_a_needed_field(case):
    catalog, answers = case
    event = catalog.life_events["ev"]
    plan = resolve(catalog, event, answers, {})
    form = build_form(catalog, plan)
    assert len(form.ids) == len(set(form.ids))
    needed = {f for m in plan.matters for f in catalog.matters[m].fields}
    needed |= {
        f
        for q in event.questions
        for o in q.options
        if dict(plan.answers).get(q.id) == o.value
        for f in o.fields
    }
    assert needed == set(form.ids)
    # the submission says who consumes each field, and every field has a consumer
    assert {f for fs in form.consumers.values() for f in fs} == set(form.ids)
    for m in plan.matters:
        assert set(catalog.matters[m].fields) <= set(form.consumers[m])
