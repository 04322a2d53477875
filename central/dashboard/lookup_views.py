"""HTML for the audit of personal-data lookups (the administrator's): which terminals read
citizens' own data lately, and, for one ID number typed in, every time a terminal read that
citizen's data. Helpers come from ``views``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from central.dashboard.data import AUDIT, SEARCHED_BY, User
from central.dashboard.views import (
    CHINA,
    bi,
    csrf_field,
    e,
    grid,
    layout,
    point_name,
    terminal_cell,
    when,
)

KIND = {"applications": ("办件查询", "Applications"), "record": ("缴费记录", "Contribution record"),
        "face": ("人脸比对留存照片", "Photo of record")}  # fmt: skip
SEARCH = ("管理员查询本记录", "An administrator searched these lookups")


def _who(r: Mapping[str, Any], points: Mapping[str, str]) -> str:
    """The terminal and its hall, or the administrator who searched (data.AUDIT rows)."""
    if r["kind"] == AUDIT:
        return f'<td>{e(r["terminal_id"].removeprefix(SEARCHED_BY))}</td><td>—</td>'
    return (f'<td class="mono">{terminal_cell(r["terminal_id"])}</td>'
            f'<td>{point_name(points, r["service_point"] or "")}</td>')


def lookups_csv(rows: Sequence[Mapping[str, Any]], points: Mapping[str, str], days: int,
                until: dt.datetime) -> str:
    """The per-terminal table (``LookupAudit.by_terminal``) as CSV, a header row in both
    languages; times in China's."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([f"近 {days} 天至 {when_full(until)} Lookups in the {days} days to {when_full(until)}"])
    w.writerow(["终端 Terminal", "服务点 Service point",
                *(f"{zh} {en}" for zh, en in KIND.values()),
                "合计 Total", "涉及群众 Citizens", "最近一次 Last"])  # fmt: skip
    for r in rows:
        point = r["service_point"] or ""
        w.writerow([_cell(r["terminal_id"]), _cell(points.get(point, point)),
                    r["applications"] or 0, r["record"] or 0, r["face"] or 0, r["total"],
                    r["citizens"], when_full(r["last"])])  # fmt: skip
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: one starting as a formula would (=, +, -, @) is
    run by it when opened (OWASP's CSV injection); a leading apostrophe keeps it text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def when_full(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def lookups_page(*, county: str, user: User, csrf: str, points: Mapping[str, str],
                 terminals: Sequence[Mapping[str, Any]], days: int, kept_days: int,
                 citizen: str = "", found: Sequence[Mapping[str, Any]] | None = None,
                 problem: str = "", open_alerts: int = 0) -> str:  # fmt: skip
    """``citizen``: the masked ID number searched for, with ``found`` its lookups."""
    rows = [
        f'<tr data-terminal="{e(r["terminal_id"])}"><td class="mono">{terminal_cell(r["terminal_id"])}</td>'
        f'<td>{point_name(points, r["service_point"] or "")}</td>'
        f'<td class="num">{r["applications"] or 0}</td><td class="num">{r["record"] or 0}</td>'
        f'<td class="num">{r["face"] or 0}</td><td class="num"><b>{r["total"]}</b></td>'
        f'<td class="num">{r["citizens"]}</td><td>{e(when(r["last"]))}</td></tr>'
        for r in terminals
    ]
    export = (f'<p class="hint"><a href="/dashboard/lookups.csv?days={min(30, kept_days)}" download>'
              f"导出近 {min(30, kept_days)} 天（CSV） Export the last {min(30, kept_days)} days (CSV)</a></p>")
    summary = export + grid([("终端", "Terminal"), ("服务点", "Service point"), *KIND.values(),
                    ("合计", "Total"), ("涉及群众", "Citizens"), ("最近一次", "Last")],
                   rows, f"近 {days} 天没有查询 No lookups in {days} days")  # fmt: skip
    err = f'<p class="error" role="alert">{e(problem)}</p>' if problem else ""
    search = (
        f'<form method="post" action="/dashboard/lookups" class="panel search" autocomplete="off">'
        f"{csrf_field(csrf)}<label>{bi('身份证号', 'ID number')}"
        '<input name="id_number" maxlength="18" required inputmode="text" '
        'pattern="[0-9]{17}[0-9Xx]" autocomplete="off"></label>'
        '<button class="primary">查询 Find</button>'
        "<small>号码不会被保存或记入日志，只用于比对。The number is neither kept nor logged: "
        "it is only compared.</small></form>"
    )
    result = ""
    if found is not None:
        lines = [
            f'<tr data-kind="{e(r["kind"])}"><td>{e(when(r["at"]))}</td>{_who(r, points)}'
            f"<td>{bi(*(SEARCH if r['kind'] == AUDIT else KIND.get(r['kind'], (r['kind'],) * 2)))}</td></tr>"
            for r in found
        ]
        result = (f'<h2 class="citizen">{bi("该群众的数据被读取记录", "Lookups of this citizen")}'
                  f' <span class="mono">{e(citizen)}</span></h2>'
                  + grid([("时间", "When"), ("终端（或管理员）", "Terminal (or administrator)"),
                          ("服务点", "Service point"),
                          ("读取内容", "What")], lines,
                         f"保留期内没有读取记录 No lookups in the last {kept_days} days"))  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("个人信息查询记录", "Personal data lookups")}</h1></div>'
        f'<p class="lead">终端每次读取群众本人的数据（办件、缴费记录、人脸比对留存照片）都记录在此，'
        f"保留 {kept_days} 天。Every time a terminal reads a citizen's own data it is recorded "
        f"here, and kept {kept_days} days.</p>"
        f"{err}{search}{result}"
        f"<h2>{bi(f'近 {days} 天各终端的查询', f'Lookups by terminal, last {days} days')}</h2>{summary}"
    )
    return layout(title="个人信息查询记录", county=county, user=user, active="lookups",
                  body=body, csrf=csrf, open_alerts=open_alerts)  # fmt: skip
