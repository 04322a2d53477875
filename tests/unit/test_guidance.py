"""Guided questions: answers decide matters; the card answers what it can."""

from __future__ import annotations

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.errors import ValidationError
from kiosk.guidance import answer_paths, identity_facts, next_question, resolve
from kiosk.identity import Gender
from tests.unit.cards import id_card, social_card


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


def test_a_womans_card_answers_that_she_is_the_mother(catalog):
    # Given a woman identified with her ID card, starting the birth event
    event = catalog.life_events["birth"]
    facts = identity_facts(id_card(Gender.FEMALE), catalog)
    # When the kiosk walks the questions
    asked = []
    answers: dict[str, str] = {}
    while (q := next_question(event, answers, facts)) is not None:
        asked.append(q.id)
        answers[q.id] = q.options[0].value
    # Then "relation" is never asked, and the mother's maternity question is
    assert "relation" not in asked
    assert "maternity_mother" in asked and "maternity_father" not in asked


def test_a_father_claiming_maternity_benefit_brings_the_mothers_authorisation(catalog):
    event = catalog.life_events["birth"]
    facts = identity_facts(id_card(Gender.MALE), catalog)
    plan = resolve(
        catalog,
        event,
        {"certificate": "issued", "maternity_father": "yes", "social_card": "no"},
        facts,
    )
    assert "maternity_benefit" in plan.matters
    assert "maternity_authorisation" in plan.material_needs["maternity_benefit"]
    assert "relation" not in plan.asked and dict(plan.answers)["relation"] == "father"


def test_the_hukou_question_is_answered_from_the_id_card_address(catalog):
    event = catalog.life_events["school_entry"]
    local = identity_facts(id_card(address="江西省安福县平都镇城南路8号"), catalog)
    away = identity_facts(id_card(address="湖南省攸县城关镇1号"), catalog)
    assert next_question(event, {"stage": "grade1"}, local).id == "home"
    assert next_question(event, {"stage": "grade1"}, away).id == "permit"


def test_a_social_security_card_cannot_tell_the_hukou_so_it_is_asked(catalog):
    facts = identity_facts(social_card(), catalog)
    assert "hukou_local" not in facts
    assert (
        next_question(catalog.life_events["school_entry"], {"stage": "grade1"}, facts).id == "hukou"
    )


def test_answers_add_matters_and_their_materials(catalog):
    event = catalog.life_events["after_death"]
    plan = resolve(
        catalog,
        event,
        {"proof": "home", "pension": "resident", "medical": "no", "hpf": "yes", "licence": "no"},
        {},
    )
    assert plan.matters == (
        "cremation_cert",
        "hukou_cancel_death",
        "death_cert_home",
        "survivor_benefit_resident",
        "hpf_withdraw_death",
    )


def test_a_question_whose_condition_fails_is_not_asked_and_its_stale_answer_is_dropped(catalog):
    event = catalog.life_events["business"]
    plan = resolve(
        catalog, event, {"form": "sole", "invoice": "no", "staff": "no", "hpf": "yes"}, {}
    )
    assert "hpf" not in dict(plan.answers)
    assert "hpf_unit_registration" not in plan.matters


def test_an_unanswered_question_is_named(catalog):
    with pytest.raises(ValidationError) as err:
        resolve(catalog, catalog.life_events["vehicle"], {"kind": "new"}, {})
    assert err.value.field == "loan"


def test_an_answer_that_is_no_option_is_refused(catalog):
    with pytest.raises(ValidationError) as err:
        resolve(catalog, catalog.life_events["vehicle"], {"kind": "boat", "loan": "no"}, {})
    assert err.value.field == "kind"


def test_every_path_of_every_event_resolves_to_at_least_one_matter(catalog):
    for event in catalog.life_events.values():
        paths = answer_paths(event)
        assert paths, event.code
        for answers, facts in paths:
            plan = resolve(catalog, event, answers, facts)
            assert plan.matters
            # no question on a path is asked whose answer the card gave
            assert not set(plan.asked) & {
                q.id for q in event.questions if q.infer_from and q.infer_from in facts
            }
