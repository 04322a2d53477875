"""The journey over the real catalog: choosing, answering with back, the one form,
the materials and the one submission it builds."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.config import china_time
from kiosk.errors import ValidationError
from kiosk.journey import Journey
from kiosk.session import Session, State
from tests.fakes import an_id_card

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


def journey(catalog) -> Journey:
    return Journey(catalog, Session(an_id_card(), NOW))


def at_the_form(catalog, event: str) -> Journey:
    """A visit that chose ``event``, answered every question with its first answer, and
    opened the form."""
    j = journey(catalog)
    j.choose(event, NOW)
    answer_all(j)
    j.start_form()
    return j


def answer_all(j: Journey) -> None:
    q = j.current_question()
    while q:
        q = j.answer(q.id, q.options[0].value, NOW)


def test_an_unknown_life_event_is_refused(catalog):
    with pytest.raises(ValidationError):
        journey(catalog).choose("moon_landing", NOW)


def test_questions_count_up_and_back_keeps_earlier_answers(catalog):
    j = journey(catalog)
    first = j.choose("after_death", NOW)
    assert j.progress().number == 1 and j.progress().total >= 2
    second = j.answer(first.id, first.options[0].value, NOW)
    assert j.progress().number == 2
    assert j.back(NOW).id == first.id
    assert first.id not in j.session.answers
    assert j.answer(first.id, first.options[0].value, NOW).id == second.id


def test_a_wrong_answer_is_refused_and_changes_nothing(catalog):
    j = journey(catalog)
    q = j.choose("birth", NOW)
    with pytest.raises(ValidationError):
        j.answer(q.id, "no-such-option", NOW)
    assert j.session.answers == {}


def test_the_form_is_prefilled_from_the_card_and_never_asks_a_field_twice(catalog):
    j = journey(catalog)
    j.choose("birth", NOW)
    answer_all(j)
    assert j.session.state is State.FORM
    prefilled = j.start_form()
    assert prefilled["applicant_name"] == "王芳"
    ids = j.form().ids
    assert len(ids) == len(set(ids))


def test_materials_must_be_scanned_or_deferred_before_review(catalog):
    j = journey(catalog)
    j.choose("birth", NOW)
    answer_all(j)
    j.session.go(State.MATERIALS, NOW)
    left = j.materials_done(NOW)
    assert left and j.session.state is State.MATERIALS
    for item in left:
        j.attach_scan(item.code, [b"page"] * max(1, len(item.pages)), NOW)
    assert j.materials_done(NOW) == []
    assert j.session.state is State.REVIEW


def test_a_household_register_is_not_taken_until_both_its_pages_are_scanned(catalog):
    j = journey(catalog)
    j.choose("birth", NOW)
    answer_all(j)
    j.session.go(State.MATERIALS, NOW)
    register = next(m for m in j.materials() if m.code == "hukou_book")
    # Given its head-of-household page scanned
    j.attach_scan("hukou_book", [b"head's page"], NOW)
    # Then it is still to be scanned, and the page wanted next is the citizen's own
    assert "hukou_book" in [m.code for m in j.outstanding()]
    assert j.page_wanted(register).zh == "本人页"
    # and once the own page is scanned too, it is taken, and no page is wanted
    j.attach_scan("hukou_book", [b"head's page", b"own page"], NOW)
    assert "hukou_book" not in [m.code for m in j.outstanding()]
    assert j.page_wanted(register) is None
    assert j.session.scans["hukou_book"].startswith("scan:2:")


def test_a_material_deferred_after_one_of_its_pages_is_not_sent_as_scanned(catalog):
    import dataclasses

    from kiosk.catalog import Bilingual

    # Given the driving licence (which may be brought later) had two named pages
    licence = dataclasses.replace(catalog.materials["driving_licence"], pages=(
        Bilingual("正页", "main page"), Bilingual("副页", "counterpart")))  # fmt: skip
    j = journey(dataclasses.replace(catalog, materials={**catalog.materials,
                                                         "driving_licence": licence}))  # fmt: skip
    j.choose("after_death", NOW)
    answer_all(j)
    j.session.go(State.MATERIALS, NOW)
    item = next(m for m in j.materials() if m.code == "driving_licence")
    assert item.pages and item.deferrable
    # When its first page is scanned, and then it is deferred after all
    j.attach_scan(item.code, [b"main page"], NOW)
    j.defer(item.code, NOW)
    # Then the half-scanned copy is not sent: it is deferred, whole, and not outstanding
    assert item.code not in j.session.scans and item.code not in j.scan_pages
    assert item.code in j.deferred_codes and item.code not in [m.code for m in j.outstanding()]


def test_a_material_the_law_requires_now_cannot_be_deferred(catalog):
    j = journey(catalog)
    j.choose("birth", NOW)
    answer_all(j)
    strict = next(m for m in j.materials() if not m.waived and not m.deferrable)
    with pytest.raises(ValidationError):
        j.defer(strict.code, NOW)


def test_one_submission_carries_every_matter_and_who_uses_which_field(catalog):
    j = at_the_form(catalog, "after_death")
    sub = j.submission("T-1", "zhouhu", NOW)
    assert sub.matters == j.plan().matters
    assert set(sub.consumers) == set(sub.matters)
    assert sub.fields["applicant_name"] == "王芳"
    assert sub.accepting_point == "zhouhu"


def test_submit_tapped_again_sends_the_same_key_and_a_changed_application_another(catalog):
    # Given an application, submitted, then Submit tapped again a minute later
    j = at_the_form(catalog, "after_death")
    first = j.submission("T-1", "zhouhu", NOW)
    again = j.submission("T-1", "zhouhu", NOW + dt.timedelta(minutes=1))
    # Then it goes under the same key (kept and stored once, not once a tap)
    assert again.key == first.key and len(first.key) == 32
    # but once the citizen changed anything in it, under another
    j.set_value("applicant_phone", "13900139000", NOW)
    assert j.submission("T-1", "zhouhu", NOW).key != first.key
    # and the same application in another visit is another submission
    other = at_the_form(catalog, "after_death")
    assert other.submission("T-1", "zhouhu", NOW).key != first.key


def test_a_deferred_material_goes_with_a_reference_to_the_signed_promise(catalog):
    j = at_the_form(catalog, "birth")
    assert j.submission("T-1", "zhouhu", NOW).commitment_signature == ""  # nothing deferred
    item = next(m for m in j.materials() if m.deferrable and not m.waived)
    j.defer(item.code, NOW)
    j.signature = b"\x89PNG signed with a finger"
    sub = j.submission("T-1", "zhouhu", NOW)
    assert [d.code for d in sub.deferred] == [item.code]
    assert sub.commitment_signature.startswith(f"signature:{len(j.signature)}:")
    # the reference travels through the outbox and the wire unchanged
    assert type(sub).from_dict(sub.to_dict()).commitment_signature == sub.commitment_signature


def test_wiping_the_journey_forgets_scans_and_the_signature(catalog):
    j = journey(catalog)
    j.choose("birth", NOW)
    j.attach_scan("hukou_book", [b"page"], NOW)
    j.signature = b"png"
    j.wipe()
    assert j.scan_pages == {} and j.signature == b""


def test_after_midnight_in_the_county_a_deferred_material_is_due_from_the_county_s_day(catalog):
    # 01:30 on Tuesday 2026-03-10 in the county is still Monday 03-09 in UTC
    early = dt.datetime(2026, 3, 9, 17, 30, tzinfo=dt.UTC)
    j = Journey(catalog, Session(an_id_card(), early))
    j.choose("birth", early)
    answer_all(j)
    j.start_form()
    item = next(m for m in j.materials() if m.deferrable and not m.waived)
    j.defer(item.code, early)
    j.signature = b"\x89PNG signed"
    [due] = j.submission("T-1", "zhouhu", early).deferred
    # the same date the materials screen showed (counted from the county's today), not a day
    # earlier; and never before the counted working days have passed from that day
    assert due.due == j.defer_due(dt.date(2026, 3, 10)) != j.defer_due(dt.date(2026, 3, 9))


@pytest.mark.parametrize(("event", "defer"), [("birth", False), ("birth", True),
                                               ("after_death", False), ("after_death", True),
                                               ("employment", False)])  # (nothing to defer)
@pytest.mark.parametrize("received", [dt.datetime(2026, 12, 12, 15, tzinfo=dt.UTC),  # Saturday
                                      dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)])  # a Monday
def test_the_review_promises_the_date_the_platform_accepts_with(catalog, event, defer, received):
    from central import decide

    # Given a visit ready to submit (on a rest day, or a working day; with a material brought
    # later or not)
    j = Journey(catalog, Session(an_id_card(), received))
    j.choose(event, received)
    answer_all(j)
    j.start_form()
    if defer:
        item = next(m for m in j.materials() if m.deferrable and not m.waived)
        j.defer(item.code, received)
        j.signature = b"\x89PNG signed"
    today = china_time(received).date()  # the county's day, as the store takes it
    sub = j.submission("T-1", "zhouhu", received)
    # When the platform accepts it that day
    outcome = decide.accept(sub, catalog, "AF2026120700001", today, j.calendar)
    days, due, waiting = j.promise(today)
    # Then the review said the very date the outcome and the receipt print, a working day
    assert due.date == outcome.promised_date and j.calendar.is_workday(due.date)
    assert waiting == (defer and outcome.promised_date == j.defer_due(today))


def test_the_question_count_includes_questions_the_card_s_own_answers_bring_in(catalog):
    # the birth bundle asks the mother's question because the card says she is a woman: it
    # is counted from the first question on ("1 of 3", not "1 of 2", then "3 of 3")
    for event in catalog.life_events:
        j = journey(catalog)
        q, seen = j.choose(event, NOW), []
        while q:
            seen.append((j.progress().number, j.progress().total))
            q = j.answer(q.id, q.options[0].value, NOW)
        asked = len(seen)
        assert [n for n, _ in seen] == list(range(1, asked + 1)), event
        assert seen[-1][1] == asked, (event, seen)  # the count ends where the asking does
        # a count only grows when an answer opens a question, never shrinks
        assert all(a[1] <= b[1] for a, b in zip(seen, seen[1:], strict=False)), (event, seen)
    j = journey(catalog)
    j.choose("birth", NOW)
    assert j.progress().total == 3


def test_a_material_deferred_then_no_longer_asked_for_does_not_push_the_promise(catalog):
    from central import decide

    # Given a material deferred, then an answer changed so the bundle no longer asks for it
    j = journey(catalog)
    q = j.choose("after_death", NOW)
    for value in ("have", "resident", "no", "no", "yes"):  # a driving licence to cancel
        q = j.answer(q.id, value, NOW)
    j.start_form()
    j.defer("driving_licence", NOW)
    j.signature = b"\x89PNG signed"
    j.back(NOW)  # back from the form to the last question: no driving licence after all
    j.back(NOW)
    j.answer(j.current_question().id, "no", NOW)
    j.start_form()
    assert "driving_licence" not in {m.code for m in j.materials()}
    # Then the review promises what the platform will: the date without the deferral
    today = china_time(NOW).date()
    outcome = decide.accept(j.submission("T-1", "zhouhu", NOW), catalog, "AF1", today, j.calendar)
    days, due, waiting = j.promise(today)
    assert due.date == outcome.promised_date and not waiting
