"""The platform's pure rules: promised dates from the bundle limit on the published
calendar, and material waivers by the core's rules (central/decide.py, central/validate.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from stdnum.cn import ric

from central import decide, validate
from central.errors import ApiError
from kiosk.catalog import Material
from kiosk.outcomes import Delivery
from kiosk.workdays import WorkdayCalendar
from tests.support.central import a_submission, id_number, small_catalog

PUBLISHED = WorkdayCalendar.from_toml(decide.CALENDAR_FILE)


def catalog_with(order=(), **matter_changes):
    cat = small_catalog()
    matters = {
        c: dataclasses.replace(m, **matter_changes.get(c, {})) for c, m in cat.matters.items()
    }
    event = dataclasses.replace(cat.life_events["birth"], order=order)
    return dataclasses.replace(cat, matters=matters, life_events={"birth": event})


def test_parallel_matters_are_promised_by_the_longest_one():
    # Given the birth bundle with no ordering (3 and 5 promised working days), nothing deferred
    cat = catalog_with()
    # When it is accepted on Monday 2026-11-23
    outcome = decide.accept(a_submission("T1", deferred=()), cat, "AF1", dt.date(2026, 11, 23), PUBLISHED)
    # Then the bundle takes the longest single matter: 5 working days, Monday 11-30
    assert outcome.promised_date == dt.date(2026, 11, 30)
    assert outcome.promised_date_provisional is False


def test_a_chain_is_promised_its_compressed_legal_sum_across_the_national_day_holiday():
    # Given birth registration (legal 20) before the card (legal 15): ceil(0.3 × 35) = 11 > 5
    cat = catalog_with(order=(("hukou_birth", "social_card"),))
    # When accepted on Monday 2026-09-21 (National Day off 10-01..10-07, 10-10 a make-up day)
    outcome = decide.accept(a_submission("T1", deferred=()), cat, "AF1", dt.date(2026, 9, 21), PUBLISHED)
    # Then 8 working days (Σ promised caps it): 22, 23, 24 (25-27 中秋), 28, 29, 30, 10-08, 10-09
    assert outcome.promised_date == dt.date(2026, 10, 9)
    assert {m.code: m.promised_date for m in outcome.matters} == {
        "hukou_birth": dt.date(2026, 9, 24),
        "social_card": dt.date(2026, 10, 9),
    }


def test_a_matter_waiting_for_a_deferred_material_is_not_promised_before_it_is_due():
    from kiosk.outcomes import DeferredMaterial

    # Given the card's photo deferred (容缺) until Friday 12-04, on a bundle accepted Monday
    # 11-23 whose matters take 3 (birth registration, 11-26) and 5 working days (card, 11-30)
    sub = dataclasses.replace(a_submission("T1"), deferred=(
        DeferredMaterial("photo", "一寸照片", dt.date(2026, 12, 4)),))  # fmt: skip
    outcome = decide.accept(sub, catalog_with(), "AF1", dt.date(2026, 11, 23), PUBLISHED)
    # Then the card, which needs the photo, is promised no earlier than the photo comes,
    # and so is the bundle; the registration, which does not, keeps its own date
    assert {m.code: m.promised_date for m in outcome.matters} == {
        "hukou_birth": dt.date(2026, 11, 26), "social_card": dt.date(2026, 12, 4)}  # fmt: skip
    assert outcome.promised_date == dt.date(2026, 12, 4)


def test_a_date_in_2027_is_provisional_until_2027_is_published():
    cat = catalog_with()
    sub = a_submission("T1")
    # Given acceptance on 2026-12-28, five working days reach into January 2027
    outcome = decide.accept(sub, cat, "AF1", dt.date(2026, 12, 28), PUBLISHED)
    assert outcome.promised_date.year == 2027 and outcome.promised_date_provisional is True
    # When 2027 is published (New Year's Day off, say), the same date is firm
    firm = WorkdayCalendar({2027: {"holidays": ["2027-01-01"], "workdays": []}})
    outcome = decide.accept(sub, cat, "AF1", dt.date(2026, 12, 28), firm)
    assert outcome.promised_date == dt.date(2027, 1, 5)
    assert outcome.promised_date_provisional is False


def materials_missing(sub, cat) -> list[str]:
    with pytest.raises(ApiError) as err:
        validate.check_against_catalog(sub, cat)
    assert err.value.key == "submission.materials_missing"
    return err.value.details


def test_an_e_certificate_type_alone_does_not_waive_the_paper():
    # Given the medical birth certificate has an e-certificate type the platform cannot fetch
    cat = small_catalog()
    sub = a_submission("T1", materials={"id_card": "scan:1", "hukou_book": "scan:2"})
    # Then a submission without its scan lacks it
    assert materials_missing(sub, cat) == ["birth_medical"]


def test_a_material_whose_pages_are_named_is_missing_until_each_page_is_scanned():
    from kiosk.catalog import Bilingual

    # Given the household register has two named pages (户主页, 本人页)
    cat = small_catalog()
    two = (Bilingual("户主页", "head's page"), Bilingual("本人页", "own page"))
    cat = dataclasses.replace(cat, materials=dict(cat.materials, hukou_book=dataclasses.replace(
        cat.materials["hukou_book"], pages=two)))  # fmt: skip
    sent = {"id_card": "scan:1:9f86d081884c7d65", "birth_medical": "scan:1:2c26b46b68ffc68f"}
    # When a kiosk sends one page of it, it is missing, named as such
    one = a_submission("T1", materials={**sent, "hukou_book": "scan:1:fcde2b2edba56bf4"})
    assert materials_missing(one, cat) == ["hukou_book"]
    # and with both pages, the submission is taken (this raises when one is missing)
    validate.check_against_catalog(
        a_submission("T1", materials={**sent, "hukou_book": "scan:2:fcde2b2edba56bf4"}), cat)
    # (a reference of another form, a scan stored elsewhere, is taken as whole)
    validate.check_against_catalog(
        a_submission("T1", materials={**sent, "hukou_book": "dms:4711"}), cat)


def test_the_id_card_read_at_the_kiosk_waives_the_id_card_copy():
    # Given an ID card material backed by the "id_card" certificate
    cat = small_catalog()
    materials = dict(cat.materials, id_card=Material("id_card", cat.materials["id_card"].name,
                                                     ecert="id_card"))  # fmt: skip
    cat = dataclasses.replace(cat, materials=materials)
    sub = a_submission("T1", materials={"hukou_book": "scan:2", "birth_medical": "scan:3"})
    # Then no copy of it is asked for: the submission is taken (this raises when one is missing)
    validate.check_against_catalog(sub, cat)
    # while without the certificate behind it, the copy is missing
    assert materials_missing(sub, small_catalog()) == ["id_card"]


def test_a_certificate_issued_by_an_earlier_matter_of_the_bundle_is_waived():
    # Given birth registration issues the medical birth certificate the card application needs
    cat = catalog_with(
        order=(("hukou_birth", "social_card"),),
        hukou_birth={"materials": ("id_card", "hukou_book"), "produces": ("birth_medical",)},
        social_card={"materials": ("id_card", "photo", "birth_medical")},
    )
    sub = a_submission("T1", materials={"id_card": "scan:1", "hukou_book": "scan:2"})
    # Then the later matter does not ask for it
    validate.check_against_catalog(sub, cat)
    # But without the ordering nothing guarantees it exists first: it is asked for
    unordered = dataclasses.replace(
        cat, life_events={"birth": dataclasses.replace(cat.life_events["birth"], order=())}
    )
    assert materials_missing(sub, unordered) == ["birth_medical"]


def test_deferring_a_material_needs_the_citizens_signed_promise():
    cat = small_catalog()
    # Given a submission that defers a material (容缺) with the signature's reference
    validate.check_against_catalog(a_submission("T1"), cat)
    # Without the signed promise it is refused with a message a screen can show
    with pytest.raises(ApiError) as err:
        validate.check_against_catalog(a_submission("T1", commitment_signature=""), cat)
    assert err.value.key == "submission.commitment_unsigned"
    # Nothing deferred: nothing to sign
    validate.check_against_catalog(a_submission("T1", deferred=(), commitment_signature="",
                                                materials={"id_card": "s", "hukou_book": "s",
                                                           "birth_medical": "s", "photo": "s"}), cat)


def test_a_broken_calendar_file_does_not_stop_acceptance(tmp_path, monkeypatch):
    # Given a published calendar file that is malformed
    broken = tmp_path / "published.toml"
    broken.write_text('[2026]\nholidays = ["not a date"]\n', encoding="utf-8")
    monkeypatch.setenv("CENTRAL_CALENDAR", str(broken))
    # When a submission is accepted on the default calendar
    outcome = decide.accept(a_submission("T1", deferred=()), catalog_with(), "AF1", dt.date(2026, 11, 23))
    # Then it still gets its date, from chinese-calendar's data
    assert outcome.promised_date == dt.date(2026, 11, 30)


def test_the_id_number_check_is_stdnum_s_but_for_where_a_number_may_come_from():
    def number(first17: str) -> str:
        return first17 + ric.calc_check_digit(first17 + "0")

    def stdnum(n: str) -> bool:
        try:
            return ric.is_valid(n)
        except KeyError:  # stdnum's own, on a province's code (811000…): a 500 before
            return False

    good = [id_number(), "11010519491231002X", "11010519491231002x", " 11010519491231002X ",
            number("36242919900501002"),  # 安福's code until 2000, born 1990
            number("36082920050501002"),  # its code since, born 2005
            number("36082919900501002"),  # since 2000, born 1990: assigned late (stdnum refuses)
            number("81000019920202345"), number("82000019920202345"), number("83000019920202345"),
            number("93684019880715001")]  # fmt: skip
    bad = [id_number()[:-1] + "0",  # check digit
           "", "abc", " 110105-19491231002X ", "36242919900231002", number("36242919900231002"),  # February 31st
           number("36242920050501002"),  # a code retired in 2000 for someone born in 2005
           number("99999919900501002"), number("00000019900501002"),  # no county
           number("81100019900101000"),  # a province where the county goes (stdnum: KeyError)
           number("98439219900101000")]  # 9 and no province  # fmt: skip
    # Then the platform, the kiosk and the privacy scan agree, twice (the county remembered)
    for _ in range(2):
        assert [validate.id_number_valid(n) for n in good] == [True] * len(good)
        assert [validate.id_number_valid(n) for n in bad] == [False] * len(bad)
    # and where they differ from stdnum, it is only over where a number may come from
    differ = [n for n in good + bad if validate.id_number_valid(n) != stdnum(n)]
    assert sorted(n[:6] for n in differ) == ["360829", "810000", "820000", "830000", "936840"]


def test_answers_remembered_for_a_catalog_are_forgotten_with_it():
    first, second = small_catalog(), small_catalog()
    memo = validate.PerCatalog(size=2)
    assert memo.get(first, "k", lambda: 1) == 1
    assert memo.get(first, "k", lambda: 2) == 1  # remembered
    assert memo.get(second, "k", lambda: 3) == 3  # another catalog: worked out again
    assert memo.get(second, "j", lambda: 4) == 4 and memo.get(second, "i", lambda: 5) == 5
    assert memo.get(second, "k", lambda: 6) == 6  # the bound forgot the oldest answers


def test_the_same_bundle_is_decided_the_same_from_memory():
    cat = catalog_with(order=(("hukou_birth", "social_card"),))
    day = dt.date(2026, 9, 21)
    first = decide.accept(a_submission("T1", deferred=()), cat, "AF1", day, PUBLISHED)
    again = decide.accept(a_submission("T1", deferred=()), cat, "AF2", day, PUBLISHED)
    assert again.matters == first.matters and again.promised_date == first.promised_date
    # and another catalog's limits are its own
    parallel = decide.accept(a_submission("T1", deferred=()), catalog_with(), "AF3", day, PUBLISHED)
    assert parallel.promised_date != first.promised_date


def test_a_correction_notice_tells_everything_missing_at_once():
    # Given a submission that lacks a required field, a material and the signed promise,
    # and asks for delivery by mail with no address
    cat = small_catalog()
    sub = a_submission("T1", fields={**a_submission("T1").fields, "applicant_phone": " "},
                       materials={"id_card": "scan:1", "hukou_book": "scan:2"},
                       commitment_signature="", local_number="LT1-000001",
                       delivery=Delivery.MAIL, delivery_address="")  # fmt: skip
    problems = list(validate.catalog_problems(sub, cat))
    # Then every rule broken is named, in the order the platform refuses with the first of,
    # each one the citizen can put right
    assert [p.key for p in problems] == ["submission.fields_missing", "submission.commitment_unsigned",
                                         "submission.materials_missing", "submission.address_missing"]  # fmt: skip
    assert all(p.key in decide.CITIZEN_CAN_MEND for p in problems)
    with pytest.raises(ApiError) as err:
        validate.check_against_catalog(sub, cat)
    assert err.value.key == problems[0].key
    # and the notice for its pending slip lists all of it, 收件 (not 受理), with no promise:
    # the photo it meant to defer without signing for is to be brought, not deferred
    notice = decide.received_needing_more(sub, cat, problems, "AF2026120700001", dt.date(2026, 12, 7))
    assert notice.kind.value == "needs_more" and notice.stage.value == "received"
    assert notice.missing == ("applicant_phone", "photo", "birth_medical", "delivery_address")
    assert notice.deferred == () and notice.reason == ""
    assert notice.promised_date is None and notice.local_number == "LT1-000001"
    assert [(m.code, m.name) for m in notice.matters] == [("hukou_birth", "出生登记"),
                                                         ("social_card", "社会保障卡申领")]  # fmt: skip
    # named for the citizen on the tracking page, what to fill in apart from what to bring
    from kiosk.outcomes import Progress
    from kiosk.query import progress_view

    lines = progress_view(Progress(notice), cat, "zh").lines
    assert "请一次性补齐以下材料：一寸照片、出生医学证明" in lines
    assert "请补填以下内容：联系电话、邮寄地址" in lines
    english = progress_view(Progress(notice), cat, "en").lines
    assert "Please complete: Phone, Postal address" in english


def test_a_code_the_catalog_no_longer_knows_is_not_the_citizen_s_to_put_right():
    cat = small_catalog()
    sub = a_submission("T1", matters=("hukou_birth", "gone_matter"))
    problems = list(validate.catalog_problems(sub, cat))
    assert [(p.key, p.field) for p in problems] == [("submission.unknown_matter", "gone_matter")]
    assert not all(p.key in decide.CITIZEN_CAN_MEND for p in problems)


def test_the_office_accepting_a_notice_counts_from_today_and_defers_nothing_it_asked_for():
    cat = small_catalog()
    sub = a_submission("T1", commitment_signature="", local_number="LT1-000001")
    problems = list(validate.catalog_problems(sub, cat))
    notice = decide.received_needing_more(sub, cat, problems, "AF1", dt.date(2026, 12, 7))
    assert notice.missing == ("photo",)
    done = decide.accept_corrected(cat, notice, sub, "AF1", dt.date(2026, 12, 14))
    assert done.kind.value == "accepted" and done.deferred == ()
    assert done.promised_date > dt.date(2026, 12, 14)
    # and when the catalog offers none of its matters any more, the office is told to refuse it
    empty = dataclasses.replace(cat, matters={})
    with pytest.raises(ApiError) as err:
        decide.accept_corrected(empty, notice, sub, "AF1", dt.date(2026, 12, 14))
    assert (err.value.status, err.value.key) == (409, "application.matters_gone")
