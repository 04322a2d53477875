"""Progress query rules: the number a scanned code names, typed numbers and ID numbers,
and an application's stages as a timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import china_time
from kiosk.i18n import translate
from kiosk.outcomes import MatterOutcome, Outcome, OutcomeKind, Progress, Stage, StageEvent
from kiosk.query import (
    NotANumber,
    clean_number,
    matters_line,
    notice_time,
    number_from_code,
    timeline,
    tracked_number,
)
from kiosk.receipts import build_receipt

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)


def test_a_receipts_qr_names_its_application():
    # Given the QR printed on an acceptance receipt
    outcome = Outcome(OutcomeKind.ACCEPTED, "k", acceptance_number="AF2026112300001")
    receipt = build_receipt(outcome, track_url="http://127.0.0.1:8080/track/")
    qr = next(b.data for b in receipt.blocks if hasattr(b, "data"))
    # Then the number it names is the acceptance number
    assert number_from_code(qr) == "AF2026112300001"


@pytest.mark.parametrize(("code", "number"), [
    ("https://zwfw.example.gov.cn/track/AF2026112300001", "AF2026112300001"),
    ("https://zwfw.example.gov.cn/track/AF2026112300001?from=receipt#top", "AF2026112300001"),
    ("https://zwfw.example.gov.cn/track/LAF-ZH-0007-000001/", "LAF-ZH-0007-000001"),
    ("https://zwfw.example.gov.cn/track/AF2026112300001?c=0123456789ab", "AF2026112300001"),
    ("zwfw.example.gov.cn/track/AF2026112300001?c=0123456789ab", "AF2026112300001"),
    ("https://zwfw.example.gov.cn/track/LAF%2DZH%2D0007%2D000001", "LAF-ZH-0007-000001"),
    ("  af2026112300001\r\n", "AF2026112300001"),  # a code that is the bare number
])  # fmt: skip
def test_tracking_urls_and_bare_numbers(code, number):
    assert number_from_code(code) == number


@pytest.mark.parametrize("code", [
    "https://qr.alipay.com/fkx12345",  # a payment code
    "6901234567892x!",  # a product barcode with junk
    "",
    "https://zwfw.example.gov.cn/track/",
    "https://zwfw.example.gov.cn/track/<script>",
])  # fmt: skip
def test_other_codes_are_not_receipts(code):
    with pytest.raises(NotANumber) as err:
        number_from_code(code)
    assert err.value.message_key == "query.not_a_receipt"


def test_only_a_tracking_url_is_routed_to_progress_from_where_one_identifies():
    # A receipt's QR names its number wherever it is shown...
    assert tracked_number("https://zwfw.example.gov.cn/track/AF2026112300001") == "AF2026112300001"
    assert tracked_number("http://127.0.0.1:8080/track/LAF-ZH-0007-000001/") == "LAF-ZH-0007-000001"
    # ...but a bare number or barcode, a payment code or a broken link is not taken for one
    for code in (
        "AF2026112300001",
        "6901234567892",
        "https://qr.alipay.com/fkx12345",
        "https://zwfw.example.gov.cn/track/",
        "https://zwfw.example.gov.cn/track/<script>",
    ):
        assert tracked_number(code) is None, code


def test_typed_numbers_are_checked_in_plain_words():
    assert clean_number(" af 2026 1123 00001 ") == "AF2026112300001"
    for typed, key in (("", "query.number_empty"), ("AF20", "query.number_short"),
                       ("AF2026/11/23", "query.number_chars")):  # fmt: skip
        with pytest.raises(NotANumber) as err:
            clean_number(typed)
        assert err.value.message_key == key


@given(st.text(max_size=80))
def test_any_scanned_text_gives_a_clean_number_or_a_plain_refusal(code):
    try:
        number = number_from_code(code)
    except NotANumber as err:
        assert err.message_key == "query.not_a_receipt"
    else:
        assert number == number.strip().upper() and 6 <= len(number) <= 40


def progress(stage: Stage, kind: OutcomeKind = OutcomeKind.ACCEPTED, events=()) -> Progress:
    history = (StageEvent(Stage.RECEIVED, OutcomeKind.ACCEPTED, T0),
               StageEvent(Stage.ACCEPTED, OutcomeKind.ACCEPTED, T0), *events)  # fmt: skip
    return Progress(Outcome(kind, "k", acceptance_number="AF1", stage=stage), history)


def test_the_timeline_has_every_stage_with_when_it_was_reached():
    later = T0 + dt.timedelta(days=2)
    lines = timeline(
        progress(Stage.ROUTED, events=(StageEvent(Stage.ROUTED, OutcomeKind.ACCEPTED, later),))
    )
    assert [line.stage for line in lines] == list(Stage)
    assert [line.reached for line in lines] == [True, True, True] + [False] * 5
    assert [line.current for line in lines].index(True) == 2
    assert lines[2].at == later and lines[3].at is None


def test_a_correction_notice_keeps_the_stage_and_says_when_it_was_issued():
    issued = T0 + dt.timedelta(days=1)
    p = progress(Stage.ACCEPTED, OutcomeKind.NEEDS_MORE,
                 (StageEvent(Stage.ACCEPTED, OutcomeKind.NEEDS_MORE, issued),))  # fmt: skip
    assert [line.current for line in timeline(p)].index(True) == 1
    assert timeline(p)[1].at == T0  # first reached, not re-stamped by the notice
    assert notice_time(p) == issued
    assert notice_time(progress(Stage.ACCEPTED)) is None


def test_a_slips_number_names_the_terminal_that_printed_it():
    from kiosk.query import slip_number, slip_printer

    assert slip_number("T7C77826F04", 1) == "LT7C77826F04-000001"
    for terminal, seq in (("T7C77826F04", 1), ("T1", 999_999), ("TAB", 1_234_567)):
        assert slip_printer(slip_number(terminal, seq)) == terminal
    for other in ("AF2026120700001", "LT1-12", "L-000001", "XT1-000001"):
        assert slip_printer(other) is None, other


def test_the_matters_of_an_application_read_as_a_list_in_the_citizens_language():
    from kiosk.query import progress_view

    matters = tuple(MatterOutcome(code, name, "公安局") for code, name in
                    (("a", "出生登记"), ("b", "社会保障卡申领")))  # fmt: skip
    view = progress_view(Progress(Outcome(OutcomeKind.ACCEPTED, "k", acceptance_number="AF1",
                                          matters=matters)), None, "en")  # fmt: skip
    assert matters_line(view, "zh") == "出生登记、社会保障卡申领"
    assert matters_line(view, "en") == "出生登记; 社会保障卡申领"  # no "、" in English


def test_the_stage_an_application_is_at_says_it_is_under_way_not_done():
    # "Review  01:13" read as "reviewed at 01:13"; the stage it is at is under way since then
    from kiosk.query import progress_view, stage_when

    later = T0 + dt.timedelta(days=2)
    p = progress(Stage.ROUTED, events=(StageEvent(Stage.ROUTED, OutcomeKind.ACCEPTED, later),))
    view = progress_view(p, None, "zh")
    said = [stage_when(line, view.status, "zh") for line in view.stages]
    since = china_time(later).strftime("%Y-%m-%d %H:%M")
    assert said[2] == translate("progress.under_way", "zh", time=since)
    assert said[1] == china_time(T0).strftime("%Y-%m-%d %H:%M")  # passed: when
    assert said[3:] == [translate("progress.not_yet", "zh")] * 5  # ahead: not started
    assert stage_when(view.stages[2], view.status, "en") == f"under way\nsince {since}"
    # where the application stopped (a correction notice), the stage is not "under way"
    stopped = progress(Stage.ACCEPTED, OutcomeKind.NEEDS_MORE)
    view = progress_view(stopped, None, "zh")
    assert stage_when(view.stages[1], view.status, "zh") == china_time(T0).strftime("%Y-%m-%d %H:%M")


def test_an_item_the_kiosk_s_catalog_does_not_hold_yet_is_never_shown_as_its_code():
    from kiosk.catalog import default_catalog_dir, load_catalog
    from kiosk.query import missing_items

    catalog = load_catalog(default_catalog_dir())
    # a notice from a platform whose catalog is newer: a field and a material this kiosk
    # has never heard of, beside ones it knows
    to_bring, to_fill = missing_items(["applicant_email_2027", "hukou_book"], catalog, "zh")
    assert "applicant_email_2027" not in to_bring + to_fill
    assert to_bring == ["一项本机尚未收录的要求（请到窗口询问，或扫描回执二维码查看）",
                        catalog.materials["hukou_book"].name.zh]
    english, _ = missing_items(["applicant_email_2027"], catalog, "en")
    assert english == ["an item this kiosk does not know yet (ask at a window, or scan the "
                       "receipt's code)"]
