"""Receipts as data from outcomes: what the citizen reads on each slip."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.catalog import default_catalog_dir, load_catalog
from kiosk.outcomes import DeferredMaterial, Delivery, MatterOutcome, Outcome, OutcomeKind
from kiosk.receipt import Qr
from kiosk.receipts import build_receipt

PRINTED = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(default_catalog_dir())


def qr_of(receipt) -> str:
    return next(b.data for b in receipt.blocks if isinstance(b, Qr))


def accepted(provisional: bool) -> Outcome:
    return Outcome(
        kind=OutcomeKind.ACCEPTED, submission_key="k1", accepting_point="zhouhu",
        acceptance_number="360829-20261123-0007",
        matters=(MatterOutcome("hukou_birth", "出生登记", "ga"), MatterOutcome("vaccination_cert", "预防接种证", "jk")),
        promised_date=dt.date(2027, 1, 5), promised_date_provisional=provisional, delivery=Delivery.MAIL,
        deferred=(DeferredMaterial("discharge_summary", "产妇出院小结", dt.date(2026, 11, 30)),),
    )  # fmt: skip


def test_the_acceptance_receipt_says_number_matters_point_authority_date_and_deferrals(catalog):
    receipt = build_receipt(accepted(False), catalog, printed_at=PRINTED)
    text = receipt.plain_text()
    assert receipt.kind == "acceptance"
    for expected in ("受理回执", "360829-20261123-0007", "洲湖镇便民服务中心", "出生登记（新生儿户口登记）",
                     "安福县公安局", "2027-01-05", "免费邮寄", "产妇出院小结", "2026-11-30"):  # fmt: skip
        assert expected in text
    assert "预计日期" not in text
    assert qr_of(receipt).endswith("360829-20261123-0007")


def test_a_provisional_date_is_marked_on_the_receipt(catalog):
    text = build_receipt(accepted(True), catalog, printed_at=PRINTED).plain_text()
    assert "预计日期" in text


def test_the_english_receipt_is_complete(catalog):
    text = build_receipt(accepted(True), catalog, language="en", printed_at=PRINTED).plain_text()
    assert "Acceptance receipt" in text and "Zhouhu Town Service Centre" in text
    # the hall's address as an English reader says it, with the Chinese to ask the way by
    assert "Zhouhu Town, Anfu County (安福县洲湖镇)" in " ".join(text.split())
    assert "Provisional" in text and "Anfu County Public Security Bureau" in text
    # the platform names the handling authority as the office's records do (in Chinese):
    # the slip names it in English
    named = Outcome(kind=OutcomeKind.ACCEPTED, submission_key="k5", acceptance_number="N5",
                    matters=(MatterOutcome("hukou_birth", "出生登记", "安福县公安局"),))  # fmt: skip
    slip = build_receipt(named, catalog, language="en", printed_at=PRINTED).plain_text()
    assert "Anfu County Public Security Bureau" in slip and "安福县公安局" not in slip
    # the material to bring later named in English too, not as the platform stored it
    assert "Mother's hospital discharge summary" in text and "产妇出院小结" not in text


def test_the_correction_notice_lists_everything_missing_once(catalog):
    outcome = Outcome(kind=OutcomeKind.NEEDS_MORE, submission_key="k2", acceptance_number="N2",
                      missing=("marriage_cert", "spouse_id_card"))  # fmt: skip
    receipt = build_receipt(outcome, catalog, printed_at=PRINTED)
    text = receipt.plain_text()
    assert receipt.kind == "correction"
    assert "1. 结婚证" in text and "2. 配偶（另一方父母）居民身份证" in text


def test_the_refusal_gives_the_reason():
    outcome = Outcome(kind=OutcomeKind.REFUSED, submission_key="k3", acceptance_number="N3",
                      reason="新生儿已满一周岁，不属于本事项受理范围")  # fmt: skip
    receipt = build_receipt(outcome, printed_at=PRINTED)
    assert receipt.kind == "refusal" and "不予受理理由：新生儿已满一周岁" in receipt.plain_text()


def test_the_pending_slip_carries_the_local_number_to_track():
    outcome = Outcome(kind=OutcomeKind.PENDING, submission_key="k4", local_number="L-0042")
    receipt = build_receipt(outcome, printed_at=PRINTED)
    assert receipt.kind == "pending" and "收件编号：L-0042" in receipt.plain_text()
    assert qr_of(receipt).endswith("L-0042")
    assert (
        receipt.job_id == build_receipt(outcome, printed_at=PRINTED).job_id
    )  # a reprint reuses it


def test_the_pending_slip_lists_what_was_handed_in_and_who_will_handle_it(catalog):
    from client.outbox import pending_outcome
    from kiosk.outcomes import Submission

    sub = Submission(key="k5", terminal_id="T", accepting_point="zhouhu", life_event="birth",
                     matters=("hukou_birth",), fields={}, consumers={}, local_number="L-0043")  # fmt: skip
    text = build_receipt(pending_outcome(sub), catalog, printed_at=PRINTED).plain_text()
    assert "出生登记（新生儿户口登记）" in text and "安福县公安局" in text


def test_the_pending_slip_says_what_to_bring_later_by_when_and_how_the_result_comes(catalog):
    # Given an application made offline with a material deferred (容缺) and delivery by mail
    from client.outbox import pending_outcome
    from kiosk.outcomes import Submission

    sub = Submission(key="k6", terminal_id="T", accepting_point="zhouhu", life_event="birth",
                     matters=("hukou_birth",), fields={}, consumers={}, local_number="L-0044",
                     delivery=Delivery.MAIL,
                     deferred=(DeferredMaterial("discharge_summary", "产妇出院小结", dt.date(2026, 11, 30)),))  # fmt: skip
    # Then its slip, the only paper the citizen takes home, says both (in either language)
    text = build_receipt(pending_outcome(sub), catalog, printed_at=PRINTED).plain_text()
    for expected in ("容缺材料", "产妇出院小结", "补交期限 2026-11-30", "送达方式", "免费邮寄"):
        assert expected in text, expected
    assert "承诺办结日期" not in text  # the platform sets it, once it has the application
    english = build_receipt(pending_outcome(sub), catalog, printed_at=PRINTED, language="en")
    assert "due 2026-11-30" in english.plain_text() and "Delivery" in english.plain_text()


def test_a_slip_names_the_life_event_and_whose_it_is_with_the_name_masked(catalog):
    # a family keeps several slips: which bundle, and whose, without the name in full
    for kind in (accepted(False), Outcome(kind=OutcomeKind.PENDING, submission_key="k9",
                                          local_number="L-0009")):  # fmt: skip
        text = build_receipt(kind, catalog, printed_at=PRINTED, life_event="birth",
                             applicant="张国华").plain_text()  # fmt: skip
        assert "新生儿出生一件事" in text and "张*华" in text and "张国华" not in text
    english = build_receipt(accepted(False), catalog, language="en", printed_at=PRINTED,
                            life_event="birth", applicant="张伟").plain_text()  # fmt: skip
    assert "A baby is born" in english and "张*" in english and "张伟" not in english
    # an event the catalog does not know, or no name: nothing printed for them
    bare = build_receipt(accepted(False), catalog, printed_at=PRINTED, life_event="moon").plain_text()
    assert "一件事" not in bare and "申请人" not in bare


def test_the_receipt_says_what_to_do_next_by_the_delivery_chosen(catalog):
    import dataclasses

    pickup = dataclasses.replace(accepted(False), delivery=Delivery.PICKUP)
    text = build_receipt(pickup, catalog, printed_at=PRINTED).plain_text()
    # where to collect it and with what, and when the windows are open
    assert "办结后，请凭本回执和身份证到洲湖镇便民服务中心领取" in text
    assert "窗口时间：工作日 08:30-12:00、14:00-17:30" in text
    english = build_receipt(pickup, catalog, language="en", printed_at=PRINTED).plain_text()
    assert "bring this slip and your ID card to Zhouhu Town Service Centre" in english
    assert "Windows: working days 08:30-12:00, 14:00-17:30\n" in english  # one line
    # by post: no window to go to
    posted = build_receipt(accepted(False), catalog, printed_at=PRINTED).plain_text()
    assert "免费邮寄到您填写的地址" in posted and "窗口时间" not in posted
    # a refusal has no next step of this kind
    refused = Outcome(kind=OutcomeKind.REFUSED, submission_key="k9", reason="不符合条件")
    assert "办结后" not in build_receipt(refused, catalog, printed_at=PRINTED).plain_text()
