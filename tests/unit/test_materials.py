"""One set of materials: once each, waived only by an e-certificate or an
earlier matter of the bundle, deferrable only where every matter allows it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.guidance import resolve
from kiosk.materials import MaterialStatus, build_materials, to_hand_over
from kiosk.timelimits import reach
from tests.unit.catalog_strategies import catalog_and_answers


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


def housing(catalog, **over):
    answers = {"married": "no", "utilities": "both", "hpf": "yes"} | over
    return resolve(catalog, catalog.life_events["housing"], answers, {})


def test_each_material_appears_once(catalog):
    items = build_materials(catalog, housing(catalog), {"id_card"})
    codes = [i.code for i in items]
    assert len(codes) == len(set(codes))
    id_card = next(i for i in items if i.code == "id_card")
    assert len(id_card.needed_by) == 6


def test_a_certificate_issued_by_an_earlier_matter_is_not_asked_for(catalog):
    items = {i.code: i for i in build_materials(catalog, housing(catalog))}
    # the new title is issued by the transfer, which comes before the utilities and the withdrawal
    assert items["property_cert"].status is MaterialStatus.PRODUCED
    assert items["property_cert"].produced_by == "property_transfer"
    assert items["deed_tax_receipt"].produced_by == "deed_tax"


def test_a_material_the_producer_itself_needs_is_not_waived(catalog):
    # moving the hukou issues a new hukou book but needs the old one first
    plan = resolve(
        catalog,
        catalog.life_events["settle"],
        {"reason": "home", "insurance": "keep", "id_card": "yes"},
        {},
    )
    items = {i.code: i for i in build_materials(catalog, plan)}
    assert items["hukou_book"].status is MaterialStatus.REQUIRED


def test_the_library_certificate_waives_the_paper(catalog):
    plan = housing(catalog, married="yes")
    without = {i.code: i for i in build_materials(catalog, plan, {"id_card"})}
    with_marriage = {i.code: i for i in build_materials(catalog, plan, {"id_card", "marriage"})}
    assert without["marriage_cert"].status is MaterialStatus.REQUIRED
    assert with_marriage["marriage_cert"].status is MaterialStatus.ECERT
    assert (
        with_marriage["spouse_id_card"].status is MaterialStatus.REQUIRED
    )  # another person's card


def test_deferrable_only_when_every_matter_needing_it_allows_it(catalog):
    business = catalog.life_events["business"]
    plan = resolve(
        catalog, business, {"form": "sole", "invoice": "no", "staff": "yes", "hpf": "yes"}, {}
    )
    items = {i.code: i for i in build_materials(catalog, plan, {"id_card"})}
    assert items["employee_roster"].deferrable
    assert not items["premises_proof"].deferrable


def test_the_bundle_hands_over_fewer_materials_than_the_matters_separately(catalog):
    plan = housing(catalog)
    handed = to_hand_over(build_materials(catalog, plan, {"id_card"}))
    separate = sum(len(v) for v in plan.material_needs.values())
    assert len(handed) < separate / 2


@settings(max_examples=150, deadline=None)
@given(catalog_and_answers(), st.data())
def test_no_material_is_waived_unless_a_certificate_or_an_earlier_matter_provides_it(case, data):
    catalog, answers = case
    event = catalog.life_events["ev"]
    plan = resolve(catalog, event, answers, {})
    certs = data.draw(st.sets(st.sampled_from(sorted(catalog.certificates))))
    items = build_materials(catalog, plan, certs)
    later = reach(event.order)
    needed = {c for m in plan.matters for c in plan.material_needs[m]}
    assert {i.code for i in items} == needed
    for item in items:
        ecert = catalog.materials[item.code].ecert
        if item.status is MaterialStatus.ECERT:
            assert ecert in certs
        elif item.status is MaterialStatus.PRODUCED:
            producer = catalog.matters[item.produced_by]
            assert ecert in producer.produces
            assert all(u in later.get(producer.code, set()) for u in item.needed_by)
        else:
            assert not ecert or ecert not in certs


def test_a_page_that_holds_still_is_taken_once_until_the_picture_changes():
    from kiosk.materials import SteadyPage

    s = SteadyPage(hold=1.0)
    assert s.feed(page=True, steady=False, t=0.0) == 0.0  # laid down: still moving
    assert s.feed(page=True, steady=True, t=0.2) == 0.0  # the hold starts
    assert s.feed(page=True, steady=True, t=0.7) == pytest.approx(0.5)
    assert s.feed(page=True, steady=True, t=1.2) == 1.0  # take it
    s.taken()
    # the same page left lying is not taken again, however long it lies there
    assert s.feed(page=True, steady=True, t=5.0) == 0.0
    assert not s.armed
    # the page is turned (the picture moves): the next steady page is taken again
    assert s.feed(page=True, steady=False, t=6.0) == 0.0
    assert s.armed
    assert s.feed(page=True, steady=True, t=6.1) == 0.0
    assert s.feed(page=True, steady=True, t=7.1) == 1.0
    s.taken()
    # the citizen drops the last page to take it again: the page still lying there is taken
    s.rearm()
    assert s.feed(page=True, steady=True, t=8.0) == 0.0
    assert s.feed(page=True, steady=True, t=9.0) == 1.0


def test_no_page_in_view_restarts_the_hold():
    from kiosk.materials import SteadyPage

    s = SteadyPage(hold=1.0)
    s.feed(page=True, steady=True, t=0.0)
    assert s.feed(page=True, steady=True, t=0.9) == pytest.approx(0.9)
    assert s.feed(page=False, steady=True, t=1.0) == 0.0  # an empty desk is not a page
    assert s.feed(page=True, steady=True, t=1.1) == 0.0
    assert s.feed(page=True, steady=True, t=1.6) == pytest.approx(0.5)
