"""The social-insurance contribution record (社会保险参保缴费记录) a citizen prints
at the terminal: the platform's answer as plain data, and its slip.

The record holds no ID number (the slip prints the card's, masked); it is still
personal data, so it lives on the screen showing it and in the printer's one
kept job, and goes with the visit. Long records fit an 80 mm slip as a table
grouped by year: a line a month (base, employer's and own amounts, paid or not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kiosk.config import china_time
from kiosk.identity import mask
from kiosk.receipt import Align, Block, Feed, Pair, Receipt, Row, Rule, Text

# The insurances of a month, in the order a record lists them.
INSURANCES = ("pension", "medical", "unemployment", "injury")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _money(value: Any) -> Decimal:
    """A sum of yuan from the platform ("4000.00"): a string or a number, never negative.

    :raises ValueError: not an amount.
    """
    try:
        amount = Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError(f"not an amount: {type(value).__name__}") from err
    if not amount.is_finite() or amount < 0:
        raise ValueError("not an amount")
    return amount.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Contribution:
    """What one insurance took in one month: the employer's share and the person's own."""

    employer: Decimal
    personal: Decimal


@dataclass(frozen=True)
class RecordMonth:
    month: dt.date  # its first day
    base: Decimal  # 缴费基数
    paid: bool
    insurances: tuple[tuple[str, Contribution], ...]

    @property
    def employer(self) -> Decimal:
        return sum((c.employer for _, c in self.insurances), Decimal("0.00"))

    @property
    def personal(self) -> Decimal:
        return sum((c.personal for _, c in self.insurances), Decimal("0.00"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecordMonth:
        year, month = (int(x) for x in str(d["month"]).split("-"))
        paid = d["paid"]
        if not isinstance(paid, bool):
            raise TypeError("paid is not true or false")
        parts = tuple((name, Contribution(_money(d[name]["employer"]), _money(d[name]["personal"])))
                      for name in INSURANCES if name in d)  # fmt: skip
        return cls(dt.date(year, month, 1), _money(d["base"]), paid, parts)


@dataclass(frozen=True, repr=False)
class ContributionRecord:
    """A citizen's contributions month by month, oldest first. ``sample``: the platform
    says this is sample data (the reference platform's), not a record to prove anything."""

    months: tuple[RecordMonth, ...]
    sample: bool
    notice_zh: str = ""
    notice_en: str = ""
    employer: str = ""  # 缴费单位
    insured_since: str = ""  # 参保起始年月, "2013-05"

    def __repr__(self) -> str:  # personal data: how much, never what
        return f"ContributionRecord(months={len(self.months)}, sample={self.sample})"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContributionRecord:
        """The platform's JSON (central.citizen_api.sample_record's shape).

        :raises KeyError, ValueError, TypeError: not a contribution record.
        """
        if not isinstance(d, dict) or not isinstance(d["months"], list):
            raise TypeError("not a contribution record")
        notice = d.get("notice") if isinstance(d.get("notice"), dict) else {}
        months = sorted((RecordMonth.from_dict(m) for m in d["months"]), key=lambda m: m.month)
        return cls(tuple(months), d.get("sample", False) is True, str(notice.get("zh", "")),
                   str(notice.get("en", "")), str(d.get("employer", "")),
                   str(d.get("insured_since", "")))  # fmt: skip

    def notice(self, language: str) -> str:
        return self.notice_en if language.startswith("en") and self.notice_en else self.notice_zh

    @property
    def employer_total(self) -> Decimal:
        return sum((m.employer for m in self.months), Decimal("0.00"))

    @property
    def personal_total(self) -> Decimal:
        return sum((m.personal for m in self.months), Decimal("0.00"))

    @property
    def unpaid(self) -> int:
        return sum(1 for m in self.months if not m.paid)

    def period(self) -> tuple[str, str]:
        """The first and last month, "2025-03", or two empty strings for no months."""
        if not self.months:
            return "", ""
        return f"{self.months[0].month:%Y-%m}", f"{self.months[-1].month:%Y-%m}"

    def by_year(self) -> list[tuple[int, list[RecordMonth]]]:
        """The months grouped by calendar year, oldest first."""
        years: dict[int, list[RecordMonth]] = {}
        for m in self.months:
            years.setdefault(m.month.year, []).append(m)
        return list(years.items())

    def by_insurance(self) -> list[tuple[str, Contribution]]:
        """Each insurance's employer's and own amounts over the whole record."""
        sums: dict[str, list[Decimal]] = {}
        for m in self.months:
            for name, c in m.insurances:
                e, p = sums.setdefault(name, [Decimal("0.00"), Decimal("0.00")])
                sums[name] = [e + c.employer, p + c.personal]
        return [(n, Contribution(*sums[n])) for n in INSURANCES if n in sums]


def masked_id(id_number: str) -> str:
    """How the slip and the screen show an ID number: the region and the last four."""
    return mask(id_number, 6, 4)


# -- the slip -------------------------------------------------------------------------

# Columns of the month table on 80 mm paper (48 in all); other papers scale them.
MONTH_COLUMNS = (7, 12, 11, 11, 7)  # month, base, employer, personal, paid
SUM_COLUMNS = (19, 11, 11, 7)  # a label over month and base, then the same amounts

_L = {
    "title": ("社会保险参保缴费记录", "Social insurance contribution record"),
    "sample": ("【示例数据  不能作为证明使用】", "[SAMPLE DATA - NOT A PROOF]"),
    "name": ("姓名", "Name"),
    "id": ("身份证号码", "ID number"),
    "employer_name": ("缴费单位", "Employer"),
    "since": ("参保起始年月", "Insured since"),
    "period": ("记录期间", "Period"),
    "to": ("{first} 至 {last}", "{first} to {last}"),
    "month": ("月份", "Month"),
    "base": ("缴费基数", "Base"),
    "employer": ("单位缴纳", "Employer"),
    "personal": ("个人缴纳", "Personal"),
    "state": ("状态", "Status"),
    "year": ("{year}年", "{year}"),
    "month_of": ("{month:02d}月", "{abbr}"),
    "paid": ("已缴", "paid"),
    "unpaid": ("欠缴", "UNPAID"),
    "total": ("合计", "Total"),
    "months_paid": ("已缴月数", "Months paid"),
    "months_unpaid": ("欠缴月数", "Months unpaid"),
    "count": ("{n} 个月", "{n}"),
    "insurances": ("分险种合计（单位缴纳 / 个人缴纳）", "By insurance (employer / personal)"),
    "pension": ("养老保险", "Pension"),
    "medical": ("医疗保险", "Medical"),
    "unemployment": ("失业保险", "Unemployment"),
    "injury": ("工伤保险", "Work injury"),
    "printed": ("打印时间", "Printed"),
    "point": ("服务网点", "Service point"),
    "terminal": ("终端编号", "Terminal"),
    "self": ("本记录由参保人本人在政务服务自助终端自助打印",
             "Self-printed by the insured person at a government self-service terminal"),
}  # fmt: skip


def build_record_receipt(record: ContributionRecord, *, name: str, id_number: str,
                         point_name: str, terminal_id: str, language: str = "zh",
                         printed_at: dt.datetime | None = None,
                         visit_began: dt.datetime | None = None) -> Receipt:  # fmt: skip
    """The slip of ``record`` for the citizen ``name`` (their ``id_number`` printed
    masked), printed at ``terminal_id`` of the service point ``point_name``. Its printer
    job is the visit's (``visit_began``; else the second it is printed): built again in
    the same visit (after paper out, in another language) it is the same job."""
    en = language.startswith("en")
    printed_at = printed_at or dt.datetime.now(dt.UTC)

    def t(key: str, **values: object) -> str:
        return _L[key][1 if en else 0].format(**values)

    def amounts(*values: Decimal) -> tuple[str, ...]:
        return tuple(f"{v:.2f}" for v in values)

    sample = [Text(t("sample"), bold=True, align=Align.CENTER)] if record.sample else []
    first, last = record.period()
    blocks: list[Block] = [
        Text(point_name, bold=True, align=Align.CENTER),
        Text(t("title"), bold=True, size=2, align=Align.CENTER),
        *sample,
        Rule(),
        Pair(t("name"), name),
        Pair(t("id"), masked_id(id_number)),
    ]
    if record.employer:
        blocks.append(Pair(t("employer_name"), record.employer))
    if record.insured_since:
        blocks.append(Pair(t("since"), record.insured_since))
    if first:
        blocks.append(Pair(t("period"), t("to", first=first, last=last)))
    blocks += [Rule(), Row((t("month"), t("base"), t("employer"), t("personal"), t("state")),
                           MONTH_COLUMNS, bold=True)]  # fmt: skip
    for year, months in record.by_year():
        blocks.append(Text(t("year", year=year), bold=True))
        for m in months:
            month = t("month_of", month=m.month.month, abbr=MONTHS_EN[m.month.month - 1])
            paid = t("paid" if m.paid else "unpaid")
            cells = (month, *amounts(m.base, m.employer, m.personal), paid)
            blocks.append(Row(cells, MONTH_COLUMNS, bold=not m.paid))
    total = (t("total"), *amounts(record.employer_total, record.personal_total), "")
    blocks += [
        Rule(),
        Row(total, SUM_COLUMNS, bold=True),
        Pair(t("months_paid"), t("count", n=len(record.months) - record.unpaid)),
    ]
    if record.unpaid:
        blocks.append(Pair(t("months_unpaid"), t("count", n=record.unpaid)))
    parts = record.by_insurance()
    if parts:
        blocks.append(Text(t("insurances")))
        blocks += [Row((t(n), *amounts(c.employer, c.personal), ""), SUM_COLUMNS) for n, c in parts]
    blocks.append(Rule())
    if record.sample:
        blocks += [Text(t("sample"), bold=True, align=Align.CENTER), Text(record.notice(language))]
    blocks += [
        Pair(t("printed"), china_time(printed_at).strftime("%Y-%m-%d %H:%M")),
        Pair(t("point"), point_name),
        Pair(t("terminal"), terminal_id),
        Text(t("self"), align=Align.CENTER),
        Feed(3),
    ]
    # the job id is logged by the printer driver: nothing personal in it
    job = china_time(visit_began or printed_at)
    return Receipt(job_id=f"record-{terminal_id}-{job:%Y%m%d%H%M%S}",
                   blocks=tuple(blocks), created_at=printed_at, kind="record")  # fmt: skip
