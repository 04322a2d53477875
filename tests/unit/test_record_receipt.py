"""The contribution record's slip (社会保险参保缴费记录): what it says and how it fits
the paper, laid out to ESC/POS bytes and read back as the printer prints them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiosk.receipt import Row
from kiosk.records import ContributionRecord, build_record_receipt
from peripherals.printer.emulator import printed_text
from peripherals.printer.layout import columns, layout

ID_NUMBER = "362429199005010048"
PRINTED_AT = dt.datetime(2026, 3, 5, 6, 30, tzinfo=dt.UTC)  # 14:30 in the county
RATES = {"pension": ("0.16", "0.08"), "medical": ("0.08", "0.02"),
         "unemployment": ("0.005", "0.005"), "injury": ("0.004", "0")}  # fmt: skip


def month(ym: str, base: str = "4000.00", paid: bool = True) -> dict:
    row: dict = {"month": ym, "base": base, "paid": paid}
    for name, (employer, personal) in RATES.items():
        row[name] = {"employer": str((Decimal(base) * Decimal(employer)).quantize(Decimal("0.01"))),
                     "personal": str((Decimal(base) * Decimal(personal)).quantize(Decimal("0.01")))}  # fmt: skip
    return row


def a_record(months: list[dict], sample: bool = True) -> ContributionRecord:
    return ContributionRecord.from_dict({
        "kind": "social_insurance_payments", "sample": sample, "source": "reference-platform",
        "notice": {"zh": "参考平台示例数据，不是真实的社会保险缴费记录，不能作为证明使用。",
                   "en": "Sample data from the reference platform: not a real contribution record, not a proof."},
        "id_number": "362429********0048", "insured_since": "2013-05", "employer": "安福县平都建材有限公司",
        "months": months, "totals": {"employer": "0.00", "personal": "0.00"},
    })  # fmt: skip


def months_of(first_year: int, count: int, unpaid: tuple[str, ...] = ()) -> list[dict]:
    out = []
    for k in range(count):
        y, m = divmod(first_year * 12 + k, 12)
        ym = f"{y}-{m + 1:02d}"
        out.append(month(ym, "4000.00" if y < 2026 else "4120.00", paid=ym not in unpaid))
    return out


def slip(record: ContributionRecord, language: str = "zh"):
    return build_record_receipt(record, name="王芳", id_number=ID_NUMBER, point_name="洲湖镇便民服务中心",
                                terminal_id="AF-ZH-0007", language=language, printed_at=PRINTED_AT)  # fmt: skip


def paper(receipt, mm: int = 80) -> list[str]:
    """The slip as the printer prints it: its lines of text."""
    return printed_text(layout(receipt, mm))


def test_the_slip_names_the_citizen_with_the_id_number_masked_and_says_where_it_was_printed():
    # Given a year of contributions of a citizen whose card the terminal read
    receipt = slip(a_record(months_of(2025, 12)))
    lines = paper(receipt)
    text = "\n".join(lines)
    # Then the slip is titled, names them, and shows the ID number masked only
    assert lines[:2] == ["洲湖镇便民服务中心", "社会保险参保缴费记录"]
    assert any(x.startswith("姓名") and x.endswith("王芳") for x in lines)
    assert any(x.startswith("身份证号码") and x.endswith("362429********0048") for x in lines)
    assert ID_NUMBER not in text and ID_NUMBER.encode() not in layout(receipt, 80)
    # with the period, the employer and when and where it was printed, by the citizen themselves
    for expected in ("记录期间", "2025-01 至 2025-12", "缴费单位", "安福县平都建材有限公司", "参保起始年月",
                     "2026-03-05 14:30", "AF-ZH-0007", "本记录由参保人本人在政务服务自助终端自助打印"):  # fmt: skip
        assert expected in text, expected
    # And nothing personal is in the job's id (the printer driver logs it)
    assert receipt.job_id == "record-AF-ZH-0007-20260305143000" and receipt.kind == "record"


def test_sample_data_is_marked_at_the_top_and_the_bottom_and_a_real_record_is_not():
    lines = paper(slip(a_record(months_of(2025, 3))))
    marks = [i for i, x in enumerate(lines) if x == "【示例数据  不能作为证明使用】"]
    assert len(marks) == 2 and marks[0] == 2 and marks[1] > len(lines) // 2
    assert "参考平台示例数据" in "".join(lines)
    real = "\n".join(paper(slip(a_record(months_of(2025, 3), sample=False))))
    assert "示例" not in real and "参考平台" not in real


def test_every_month_is_one_line_of_the_table_under_its_year_with_the_amounts_aligned():
    # Given two years and a bit, one month unpaid
    record = a_record(months_of(2024, 27, unpaid=("2025-08",)))
    lines = paper(slip(record))
    # Then each year heads its months, one line a month, in order
    years = [x for x in lines if x in ("2024年", "2025年", "2026年")]
    assert years == ["2024年", "2025年", "2026年"]
    at = [i for i, x in enumerate(lines) if x[:2].isdigit() and x[2:3] == "月"]
    rows = [lines[i] for i in at]
    assert len(rows) == 27
    assert at[11] < lines.index("2025年") < at[12] and rows[12].startswith("01月")
    # with the base, the employer's and the person's own amounts, and paid or not
    assert rows[0].split() == ["01月", "4000.00", "996.00", "420.00", "已缴"]
    assert rows[19].split() == ["08月", "4000.00", "996.00", "420.00", "欠缴"]
    # every amount ends in the same column as its heading, on 80 mm paper (48 columns)
    head = next(x for x in lines if x.startswith("月份"))
    ends = [columns(head[: head.index(name)]) + columns(name) for name in ("缴费基数", "单位缴纳", "个人缴纳")]  # fmt: skip
    for row in rows:
        parts = row.split()
        assert [columns(row[: row.index(p, 3) + len(p)]) for p in parts[1:4]] == ends
    assert all(columns(x) <= 48 for x in lines)


def test_the_totals_add_up_the_months_and_unpaid_months_are_counted_and_in_bold():
    record = a_record(months_of(2025, 12, unpaid=("2025-03", "2025-04")))
    receipt = slip(record)
    text = "\n".join(paper(receipt))
    totals = (record.employer_total, record.personal_total)
    assert totals == (Decimal("11952.00"), Decimal("5040.00"))
    assert any(x.split() == ["合计", "11952.00", "5040.00"] for x in text.splitlines())
    assert "已缴月数" in text and "10 个月" in text and "欠缴月数" in text and "2 个月" in text
    unpaid = [b for b in receipt.blocks if isinstance(b, Row) and "欠缴" in b.cells]
    assert len(unpaid) == 2 and all(b.bold for b in unpaid)
    # and each insurance's share over the year
    assert any(x.split() == ["养老保险", "7680.00", "3840.00"] for x in text.splitlines())
    assert any(x.split() == ["工伤保险", "192.00", "0.00"] for x in text.splitlines())


def test_a_long_record_stays_legible_on_80_mm_and_keeps_every_character_on_58_mm():
    record = a_record(months_of(2021, 60))
    wide = paper(slip(record))
    assert sum(1 for x in wide if x[2:3] == "月" and x[:2].isdigit()) == 60
    assert all(columns(x) <= 48 for x in wide)
    # On the narrower paper a row that no longer fits wraps, and loses nothing
    narrow = paper(slip(record), 58)
    assert all(columns(x) <= 32 for x in narrow)
    assert "".join(narrow).count("4120.00") == "".join(wide).count("4120.00")
    assert ID_NUMBER not in "".join(narrow)


def test_the_slip_in_english():
    text = "\n".join(paper(slip(a_record(months_of(2025, 12, unpaid=("2025-06",))), "en")))
    for expected in ("Social insurance", "contribution record", "[SAMPLE DATA - NOT A PROOF]",
                     "362429********0048", "2025-01 to 2025-12", "Total", "Months paid",
                     "Sample data from the reference platform", "Self-printed by the insured person"):  # fmt: skip
        assert expected in text, expected
    rows = [x.split() for x in text.splitlines() if x[:3] in ("Jan", "Jun")]
    assert rows == [["Jan", "4000.00", "996.00", "420.00", "paid"],
                    ["Jun", "4000.00", "996.00", "420.00", "UNPAID"]]  # fmt: skip
    assert ID_NUMBER not in text


@pytest.mark.parametrize("bad", [{"months": "none"}, {"months": [{"month": "2025-01"}]},
                                 {"months": [month("2025-13")]},
                                 {"months": [{**month("2025-01"), "base": "-1"}]},
                                 {"months": [{**month("2025-01"), "paid": "yes"}]}])  # fmt: skip
def test_an_answer_that_is_not_a_record_is_refused(bad):
    with pytest.raises((KeyError, ValueError, TypeError)):
        ContributionRecord.from_dict(bad)


def test_the_record_never_shows_its_figures_in_a_log_line():
    assert repr(a_record(months_of(2025, 12))) == "ContributionRecord(months=12, sample=True)"
