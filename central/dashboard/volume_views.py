"""HTML for the volumes page (业务量): totals, charts by hour or day, life events, matters,
service points and terminals. Markup helpers come from ``views``; charts from ``charts``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from central.dashboard import charts
from central.dashboard.data import User
from central.dashboard.views import bi, e, grid, layout, terminal_cell
from central.dashboard.volumes import MEASURES, Report

MEASURE = {"sessions": ("服务人次", "Sessions", "#1565c0"),
           "applications": ("申办件数", "Applications", "#1b7f3b"),
           "queries": ("查询次数", "Queries", "#7b1fa2"),
           "tickets": ("取号张数", "Tickets", "#e08a00")}  # fmt: skip
ENDED = {"finished": "正常结束", "timeout": "超时离开", "card_removed": "取卡离开",
         "technician": "技术员接管",  # kiosk.terminal: a technician took the terminal
         "error": "程序故障结束"}  # screens.app: the card watcher met a defect mid-visit
LOOKED_UP = {"progress": "办件进度", "guide": "办事指南", "record": "社保记录", "ticket": "取号"}


def _axis(bucket: str, unit: str, days: int) -> str:
    """A short axis label for a bucket ("2026-11-23" or "2026-11-23 14")."""
    if unit == "hour":
        day, hour = bucket.split(" ")
        if hour == "00" and days > 1:
            return f"{int(day[5:7])}/{int(day[8:10])}"
        return f"{int(hour)}时" if days == 1 else ""
    d = dt.date.fromisoformat(bucket)
    return f"{d.month}/{d.day}"


def _bars(report: Report, measure: str) -> list[tuple[str, str, float]]:
    rng = report.range
    days = (rng.last - rng.first).days + 1
    counts = report.series.get(measure, {})
    return [(b, _axis(b, rng.unit, days), counts.get(b, 0)) for b in rng.buckets()]


def _filters(*, points: Mapping[str, str], visible: Sequence[str], chosen: str,
             terminals: Sequence[str], terminal: str, report: Report) -> str:  # fmt: skip
    rng = report.range
    everything = (
        "全部服务点 All points" if len(visible) == len(points) else "我负责的服务点 My points"
    )
    point_opts = [f'<option value="">{everything}</option>'] + [
        f'<option value="{e(c)}"{" selected" if c == chosen else ""}>{e(points.get(c, c))}</option>'
        for c in visible
    ]
    term_opts = ['<option value="">全部终端 All terminals</option>'] + [
        f'<option value="{e(t)}"{" selected" if t == terminal else ""}>{e(t)}</option>'
        for t in terminals
    ]
    unit = "".join(
        f'<label class="seg"><input type="radio" name="unit" value="{u}"'
        f"{' checked' if rng.unit == u else ''}><span>{bi(zh, en)}</span></label>"
        for u, zh, en in (("hour", "按小时", "Hourly"), ("day", "按天", "Daily"))
    )
    return (
        '<form class="filter wide" method="get" action="/dashboard/volumes">'
        f'<label>服务点 Point<select name="point">{"".join(point_opts)}</select></label>'
        f'<label>终端 Terminal<select name="terminal"{"" if terminals else " disabled"}>'
        f"{''.join(term_opts)}</select></label>"
        f'<label>从 From<input type="date" name="from" value="{rng.first.isoformat()}"></label>'
        f'<label>至 To<input type="date" name="to" value="{rng.last.isoformat()}"></label>'
        f'<div class="segs">{unit}</div><button class="primary">查询 Show</button></form>'
    )


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage, a few never shown as none ("<1%": 2 of
    763 visits read "0%", as if no citizen had left on the countdown)."""
    pct = 100 * part / whole
    if 0 < pct < 1:
        return "<1%"
    if 99 < pct < 100:
        return ">99%"
    return f"{pct:.0f}%"


def volumes_page(*, county: str, user: User, csrf: str, report: Report, points: Mapping[str, str],
                 visible: Sequence[str], chosen: str, terminals: Sequence[str], terminal: str,
                 life_events: Mapping[str, str], matters: Mapping[str, str], note: str,
                 open_alerts: int, places: Mapping[str, str] | None = None) -> str:  # fmt: skip
    rng = report.range
    days = (rng.last - rng.first).days + 1
    sessions = report.total("sessions")
    timeouts = report.ended.get("timeout", 0)
    left = f"超时离开 {timeouts} 次（{share(timeouts, sessions)}）" if sessions else "超时离开 —"
    captions = {"sessions": left}
    for m, per in (("applications", "件"), ("queries", "次"), ("tickets", "张")):
        if rng.unit == "day":
            captions[m] = f"日均 {report.total(m) / days:.1f} {per}"
        else:
            busiest = max(_bars(report, m), key=lambda b: b[2], default=None)
            hour = busiest[0][-2:] if busiest and busiest[2] else ""
            captions[m] = f"高峰 {int(hour)} 时（{busiest[2]} {per}）" if hour else "高峰 —"
    cards = "".join(
        f'<div class="card vol" style="border-left-color:{MEASURE[m][2]}" data-measure="{m}">'
        f'<b style="color:{MEASURE[m][2]}">{report.total(m):,}</b>{bi(MEASURE[m][0], MEASURE[m][1])}'
        f"<small>{e(captions[m])}</small></div>"
        for m in MEASURES
    )
    unit_zh = "每小时" if rng.unit == "hour" else "每天"
    span = (f"{rng.first:%Y年%-m月%-d日}" if days == 1
            else f"{rng.first:%Y年%-m月%-d日} – {rng.last:%-m月%-d日}（{days} 天）")  # fmt: skip
    panels = "".join(
        f'<section class="panel chartbox" data-measure="{m}"><h2>{bi(MEASURE[m][0], MEASURE[m][1])}'
        f"<small>{unit_zh}</small></h2>"
        f"{charts.column_chart(_bars(report, m), color=MEASURE[m][2], label=MEASURE[m][0])}</section>"
        for m in MEASURES
    )
    events = sorted(report.by_life_event.items(), key=lambda kv: (-kv[1], kv[0]))
    event_rows = [
        (c, life_events.get(c, c) if c else "单项事项 Single matters", n) for c, n in events
    ]
    matter_rows = [(c, matters.get(c, c), n)
                   for c, n in sorted(report.by_matter.items(), key=lambda kv: (-kv[1], kv[0]))[:12]]  # fmt: skip
    series = [(MEASURE[m][0], MEASURE[m][2]) for m in MEASURES]
    shown_points = [p for p in visible if any(report.per_point[m].get(p) for m in MEASURES)]
    point_rows = [(p, points.get(p, p), [report.per_point[m].get(p, 0) for m in MEASURES])
                  for p in sorted(shown_points, key=lambda p: -report.per_point["sessions"].get(p, 0))]  # fmt: skip
    ended_rows = [(k, ENDED.get(k, k), n)
                  for k, n in sorted(report.ended.items(), key=lambda kv: (-kv[1], kv[0]))]  # fmt: skip
    looked_rows = [(k, LOOKED_UP.get(k, k), n)
                   for k, n in sorted(report.queries_by_kind.items(), key=lambda kv: (-kv[1], kv[0]))]  # fmt: skip
    note_html = ('<p class="note">按小时统计最多 14 天，已改为按天。'
                 "Hourly counts cover at most 14 days; shown by day.</p>" if note else "")  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("业务量", "Volumes")}</h1>'
        f'<span class="muted">{e(span)}</span></div>'
        + _filters(
            points=points,
            visible=visible,
            chosen=chosen,
            terminals=terminals,
            terminal=terminal,
            report=report,
        )  # fmt: skip
        + note_html
        + f'<div class="cards">{cards}</div><div class="charts">{panels}</div>'
        + '<div class="split even">'
        f'<section class="panel"><h2>{bi("申办件数 · 按一件事", "Applications by life event")}</h2>'
        f"{charts.bar_list(event_rows, color=MEASURE['applications'][2], label='按一件事', unit=' 件')}</section>"
        f'<section class="panel"><h2>{bi("申办件数 · 按事项（前 12）", "By matter, top 12")}</h2>'
        f"{charts.bar_list(matter_rows, color='#2e7d32', label='按事项', unit=' 件')}</section></div>"
        + '<div class="split even">'
        f'<section class="panel"><h2>{bi("按服务点", "By service point")}</h2>{charts.legend(series)}'
        f"{charts.grouped_bars(point_rows, series, label='按服务点')}</section>"
        f'<section class="panel"><h2>{bi("服务结束方式", "How visits ended")}</h2>'
        f"{charts.bar_list(ended_rows, color=MEASURE['sessions'][2], label='结束方式', unit=' 人次')}"
        f'<p class="hint">超时离开：群众未操作、倒计时结束后自动清除信息并退出。</p>'
        f'<h2 class="sub">{bi("查询内容", "What was looked up")}</h2>'
        f"{charts.bar_list(looked_rows, color=MEASURE['queries'][2], label='查询内容', unit=' 次')}"
        "</section></div>" + _terminal_table(report, points, places or {})
    )
    return layout(title="业务量", county=county, user=user, active="volumes", body=body, csrf=csrf,
                  open_alerts=open_alerts)  # fmt: skip


def _terminal_table(report: Report, points: Mapping[str, str], places: Mapping[str, str],
                    limit: int = 100) -> str:  # fmt: skip
    ids = sorted(report.terminal_points,
                 key=lambda t: (-report.per_terminal["sessions"].get(t, 0), t))[:limit]  # fmt: skip
    peaks = {m: max(report.per_terminal[m].values(), default=0) or 1 for m in MEASURES}
    rows = []
    for t in ids:
        cells = []
        for m in MEASURES:
            n = report.per_terminal[m].get(t, 0)
            w = 100 * n / peaks[m]
            cells.append(f'<td class="num meter" data-measure="{m}"><span class="mbar" '
                         f'style="width:{w:.0f}%;background:{MEASURE[m][2]}"></span><b>{n:,}</b></td>')  # fmt: skip
        point = report.terminal_points[t]
        rows.append(f'<tr data-terminal="{e(t)}"><td class="mono">{terminal_cell(t, places.get(t, ""))}</td>'
                    f'<td>{e(points.get(point, point))}</td>{"".join(cells)}</tr>')  # fmt: skip
    columns = [("终端", "Terminal"), ("服务点", "Service point"),
               *((MEASURE[m][0], MEASURE[m][1]) for m in MEASURES)]  # fmt: skip
    return f"<h2>{bi('按终端', 'By terminal')}</h2>" + grid(columns, rows, "暂无数据 No data")
