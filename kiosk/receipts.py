"""Receipts from outcomes: what each slip says, as data (the printer lays it out).

Four slips, each with a QR to track the application:
acceptance receipt (受理回执), correction notice (材料补齐补正通知书),
refusal (不予受理通知书) and pending slip (收件凭证, accepted offline);
and the queue slip (排队号) of a ticket, which has none.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from kiosk.catalog.model import Catalog
from kiosk.config import china_time
from kiosk.i18n import translate
from kiosk.identity import mask
from kiosk.outcomes import Outcome, OutcomeKind
from kiosk.query import TRACK_CODE, missing_name, track_code
from kiosk.receipt import Align, Block, Feed, Pair, Qr, Receipt, Rule, Text

TRACK_URL = "https://zwfw.example.gov.cn/track/"  # the platform's progress page

_TITLES = {
    OutcomeKind.ACCEPTED: ("受理回执", "Acceptance receipt"),
    OutcomeKind.NEEDS_MORE: ("材料补齐补正通知书", "Notice to complete materials"),
    OutcomeKind.REFUSED: ("不予受理通知书", "Notice of refusal"),
    OutcomeKind.PENDING: ("收件凭证", "Pending slip (received, not yet accepted)"),
}
_KINDS = {
    OutcomeKind.ACCEPTED: "acceptance",
    OutcomeKind.NEEDS_MORE: "correction",
    OutcomeKind.REFUSED: "refusal",
    OutcomeKind.PENDING: "pending",
}
_L = {
    "event": ("一件事", "Life event"),
    "applicant": ("申请人", "Applicant"),
    "number": ("受理编号", "Acceptance no."),
    "local": ("收件编号", "Slip no."),  # as the screen calls it (outcome.pending_number)
    "point": ("受理点", "Accepting point"),
    "address": ("地址", "Address"),
    "matters": ("办理事项", "Matters"),
    "authority": ("办理机关", "Handled by"),
    "promised": ("承诺办结日期", "Promised by"),
    "provisional": (
        "（预计日期：该年度节假日安排尚未公布，公布后以实际工作日为准）",
        "(Provisional: that year's holidays are not yet announced; the date will be confirmed)",
    ),
    "delivery": ("送达方式", "Delivery"),
    "deferred": ("容缺材料（请在期限前补交）", "Materials to bring later"),
    "due": ("补交期限", "due"),
    "missing": (
        "请一次性补齐以下材料后重新提交：",
        "Please bring all of the following and submit again:",
    ),
    "reason": ("不予受理理由", "Reason"),
    "pending": (
        "网络恢复后自动提交；之后扫描下方二维码，可查看受理结果和需补正的材料。",
        "It is sent when the network is back; then scan the code below to see the outcome "
        "and anything still to bring.",
    ),
    # what to do next, by the delivery chosen ({point}: where it was handed in)
    "next.pickup": ("办结后，请凭本回执和身份证到{point}领取", "When it is done, bring this slip and "
                    "your ID card to {point} to collect it"),  # fmt: skip
    "next.mail": ("办结后，免费邮寄到您填写的地址", "When it is done, it is posted free to the address "
                  "you gave"),  # fmt: skip
    "next.ecert": ("办结后，电子证照存入证照库，并短信通知您", "When it is done, the e-certificate is "
                   "issued and a text message tells you"),  # fmt: skip
    # (one line of an 80 mm slip with two spans: "14:00" / "-17:30" broke over two)
    "hours": ("窗口时间：工作日 {hours}", "Windows: working days {hours}"),
    "phone": ("咨询电话", "Enquiries"),
    "track": ("扫码查询办理进度", "Scan to track progress"),
    "issued": ("打印时间", "Printed"),
}


def _t(key: str, en: bool) -> str:
    return _L[key][1 if en else 0]


def _next_steps(outcome: Outcome, point: str, hall, en: bool) -> list[Block]:
    """What the citizen does next, by the delivery they chose: where to collect it and
    with what, when the windows are open, whom to ask (``hall``: the accepting point's
    ServicePoint, or None)."""
    key = f"next.{outcome.delivery.value}"
    if key not in _L or (outcome.delivery.value == "pickup" and not point):
        return []
    steps: list[Block] = [Text(_t(key, en).format(point=point))]
    if outcome.delivery.value == "pickup" and hall is not None and hall.hours:
        spans = ("、" if not en else ", ").join(hall.hours.replace(" ", "").split(","))
        steps.append(Text(_t("hours", en).format(hours=spans)))
    if hall is not None and hall.phone:
        steps.append(Pair(_t("phone", en), hall.phone))
    return steps


def _material_name(code: str, catalog: Catalog | None, language: str) -> str:
    """A material's name in ``language`` from the catalog; "" when it is not there."""
    if catalog and code in catalog.materials:
        return catalog.materials[code].name.get(language)
    return ""


def _department_name(authority: str, catalog: Catalog | None, language: str) -> str:
    """The handling authority in ``language``: the platform routes by the department's
    code or names it (its Chinese name, as the office's records have it)."""
    if not catalog or not authority:
        return authority
    dept = catalog.departments.get(authority) or next(
        (d for d in catalog.departments.values() if d.name.zh == authority), None)  # fmt: skip
    return dept.name.get(language) if dept else authority


def build_receipt(
    outcome: Outcome,
    catalog: Catalog | None = None,
    *,
    language: str = "zh",
    track_url: str = TRACK_URL,
    track_secret: str = "",
    printed_at: dt.datetime | None = None,
    life_event: str = "",
    applicant: str = "",
) -> Receipt:
    """The slip for ``outcome``; names come from ``catalog`` when given. ``track_secret``:
    the printing terminal's, for the code in the tracking QR (kiosk.query.track_code).
    ``life_event`` (the bundle's code) and ``applicant`` (a name, printed masked: 张*华) say
    whose application it is and for what, for a family that keeps several slips."""
    en = language.startswith("en")
    printed_at = printed_at or dt.datetime.now(dt.UTC)
    number = outcome.acceptance_number or outcome.local_number or outcome.submission_key
    blocks: list[Block] = [
        Text(catalog.county.get(language) if catalog else "", align=Align.CENTER),
        Text(_TITLES[outcome.kind][en], bold=True, size=2, align=Align.CENTER),
        Rule(),
    ]
    if catalog and life_event in catalog.life_events:
        blocks.append(Pair(_t("event", en), catalog.life_events[life_event].title.get(language)))
    if applicant:
        blocks.append(Pair(_t("applicant", en), mask(applicant)))
    if outcome.kind is OutcomeKind.PENDING:
        blocks.append(Pair(_t("local", en), outcome.local_number or number))
    else:
        blocks.append(Pair(_t("number", en), number))
    point, address, hall = outcome.accepting_point, "", None
    if catalog and point in catalog.service_points:
        hall = catalog.service_points[point]
        address = hall.address  # where to collect, to bring things
        if en and hall.address_en:  # and in Chinese too: what to show when asking the way
            address = f"{hall.address_en} ({hall.address})"
        point = hall.name.get(language)
    if point:
        blocks.append(Pair(_t("point", en), point))
    if address:
        blocks.append(Pair(_t("address", en), address))
    if outcome.matters:
        blocks.append(Text(_t("matters", en), bold=True))
        for m in outcome.matters:
            name = m.name
            authority = m.handling_authority
            if catalog and m.code in catalog.matters:
                name = catalog.matters[m.code].name.get(language)
                authority = authority or catalog.matters[m.code].department  # a slip: not routed yet
            authority = _department_name(authority, catalog, language)
            blocks.append(Text(f"· {name}"))
            if authority:
                blocks.append(Pair(f"  {_t('authority', en)}", authority))
    if outcome.kind in (OutcomeKind.ACCEPTED, OutcomeKind.PENDING):
        if outcome.promised_date:  # (a pending slip has none yet: the platform sets it)
            blocks.append(Pair(_t("promised", en), outcome.promised_date.isoformat()))
            if outcome.promised_date_provisional:
                blocks.append(Text(_t("provisional", en)))
        # worded as the review screen's buttons were, in the slip's language
        delivery = translate(f"delivery.{outcome.delivery.value}", "en" if en else "zh")
        blocks.append(Pair(_t("delivery", en), delivery))
        blocks += _next_steps(outcome, point, hall, en)
        # what the citizen promised to bring, and by when: on the paper they take home, on
        # a pending slip too (linked later, it is the only paper they get)
        if outcome.deferred:
            blocks.append(Text(_t("deferred", en), bold=True))
            for d in outcome.deferred:  # named in the slip's language, as the matters are
                name = _material_name(d.code, catalog, language) or d.name
                blocks.append(Pair(f"· {name}", f"{_t('due', en)} {d.due.isoformat()}"))
    if outcome.kind is OutcomeKind.PENDING:
        blocks.append(Text(_t("pending", en)))
    elif outcome.kind is OutcomeKind.NEEDS_MORE:
        blocks.append(Text(_t("missing", en), bold=True))
        for i, code in enumerate(outcome.missing, start=1):
            blocks.append(Text(f"{i}. {missing_name(code, catalog, language)}"))
    elif outcome.kind is OutcomeKind.REFUSED:
        blocks.append(Pair(_t("reason", en), outcome.reason))
    blocks += [
        Rule(),
        Qr(track_url + number + (f"?{TRACK_CODE}={track_code(track_secret, number)}"
                                 if track_secret else ""), caption=_t("track", en)),  # fmt: skip
        Pair(_t("issued", en), china_time(printed_at).strftime("%Y-%m-%d %H:%M")),
        Feed(3),
    ]
    return Receipt(
        job_id=f"{_KINDS[outcome.kind]}-{number}", blocks=tuple(blocks), kind=_KINDS[outcome.kind]
    )


class TicketLike(Protocol):
    """What a queue ticket (取号) carries; the platform client's ``Ticket`` is one."""

    number: str
    kind: str
    kind_name: str
    service_point: str
    people_ahead: int
    estimated_wait_minutes: int
    issued_at: dt.datetime


_TICKET = {
    "title": ("排队号", "Queue ticket"),
    "queue": ("业务类型", "Service"),
    "ahead": ("前面还有", "People ahead"),
    "ahead_value": ("{n} 人", "{n}"),
    "wait": ("预计等候", "Estimated wait"),
    "wait_value": ("约 {n} 分钟", "about {n} min"),
    "wait_none": ("马上到您", "You are next"),
    "issued": ("取号时间", "Taken at"),
    "listen": ("请留意叫号屏幕和语音，过号请重新取号。", "Watch the screen and listen for your number; if you miss it, take a new ticket."),
    "today": ("本号当日有效", "Valid today only"),
}  # fmt: skip


def build_ticket_receipt(
    ticket: TicketLike,
    catalog: Catalog | None = None,
    *,
    language: str = "zh",
    kind_name: str = "",
) -> Receipt:
    """The queue slip: the service point, the number in large type, people ahead and
    the estimated wait. ``kind_name`` names the queue in ``language`` (the platform's
    own name otherwise). Nothing personal is printed."""
    en = language.startswith("en")

    def t(key: str, **values: object) -> str:
        return _TICKET[key][1 if en else 0].format(**values)

    point = ticket.service_point
    if catalog and point in catalog.service_points:
        point = catalog.service_points[point].name.get(language)
    wait = (t("wait_value", n=ticket.estimated_wait_minutes) if ticket.people_ahead
            else t("wait_none"))  # fmt: skip
    blocks: list[Block] = [
        Text(point, bold=True, align=Align.CENTER),
        Text(t("title"), bold=True, size=2, align=Align.CENTER),
        Rule(),
        Text(ticket.number, bold=True, size=4, align=Align.CENTER),
        Feed(1),
        Pair(t("queue"), kind_name or ticket.kind_name),
        Pair(t("ahead"), t("ahead_value", n=ticket.people_ahead)),
        Pair(t("wait"), wait),
        Pair(t("issued"), china_time(ticket.issued_at).strftime("%Y-%m-%d %H:%M")),
        Rule(),
        Text(t("listen")),
        Text(t("today"), align=Align.CENTER),
        Feed(3),
    ]
    day = china_time(ticket.issued_at).strftime("%Y%m%d")
    return Receipt(job_id=f"ticket-{ticket.service_point}-{day}-{ticket.number}",
                   blocks=tuple(blocks), created_at=ticket.issued_at, kind="ticket")  # fmt: skip

# The platform's queues (central.citizen_api.KINDS), in the order the ticket screen offers them.
QUEUE_KINDS = ("general", "social_security", "household", "business", "tax")
