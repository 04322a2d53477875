"""HTML for the dashboard: small functions that turn data into escaped markup.

Chinese first with the English label beside it, so a visiting technician who
reads neither well still finds the column. Every value from the database or a
terminal goes through ``e()``; every POST form carries the CSRF token.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from central.dashboard import status
from central.dashboard.data import NOTE_MAX, User, needs_contact_note, still_ongoing
from central.dashboard.reasons import in_chinese
from central.dashboard.status import Severity, TerminalView
from kiosk.session import CARD_LEFT_HELP as CARD_LEFT  # a card stayed in a reader
from kiosk.technician import HELP_SCREEN as PIN_FAILURES  # its help request's screen
from kiosk.technician import LOCK_SECONDS as PIN_LOCK_SECONDS

CHINA = ZoneInfo("Asia/Shanghai")
CSS = "/dashboard/static/dashboard.css"

ROLE = {"manager": "大厅管理员 Hall manager", "technician": "运维技术员 Technician",
        "admin": "系统管理员 Administrator"}  # fmt: skip
SEVERITY = {Severity.RED: ("异常", "Problem"), Severity.AMBER: ("注意", "Warning"),
            Severity.GREEN: ("正常", "OK")}  # fmt: skip
DEVICE = {"printer": "打印机", "idcard": "身份证阅读器", "sscard": "社保卡读卡器",
          "scanner": "扫码器", "camera": "高拍仪", "document_camera": "高拍仪",
          "face_camera": "人脸摄像头", "speech": "语音", "platform": "平台连接",
          "outbox": "提交队列"}  # fmt: skip
STATE = {"ok": "正常", "degraded": "降级", "fault": "故障"}
# the kiosk's screens (screens/app.py) as a heartbeat or a call for staff names them
SCREEN = {"starting": ("启动中", "Starting"), "attract": ("待机画面", "Attract screen"),
          "home": ("首页", "Home"), "question": ("情形引导", "Guided questions"),
          "form": ("填写表单", "Form"), "materials": ("材料清单", "Materials"),
          "capture": ("拍摄材料", "Document capture"), "review": ("核对提交", "Review"),
          "outcome": ("办理结果", "Outcome"), "rate": ("评价", "Rating"),
          "end": ("办理结束", "Goodbye"), "face": ("人脸比对", "Face check"),
          "search": ("搜索事项", "Search"), "guide": ("办事指南", "Guide"),
          "progress": ("进度查询", "Progress"), "ticket": ("取号", "Queue ticket"),
          "record": ("打印记录", "Records"), "technician_pin": ("技术员登录", "Technician PIN"),
          "technician": ("技术员维护", "Technician screen"),
          "selftest": ("设备自检", "Self-test")}  # fmt: skip
PAPER = {"ok": ("充足", "OK"), "near_end": ("将尽", "Near end"), "out": ("缺纸", "Out"),
         "unknown": ("未知", "Unknown")}  # fmt: skip
KIND = {status.OFFLINE: ("终端离线", "Offline"), status.PAPER_OUT: ("打印机缺纸", "Paper out"),
        status.PAPER_NEAR_END: ("打印纸将尽", "Paper near end"),
        status.DEVICE_FAULT: ("设备故障", "Device fault"),
        status.DEVICE_DEGRADED: ("设备降级", "Device degraded"),
        status.FAILED_READS: ("多次读卡失败", "Repeated failed card reads"),
        status.HELP: ("群众呼叫工作人员", "Citizen calls staff"),
        status.CORRECTION: ("收件待补正：请联系申请人", "Pending slip needs correction: contact the applicant"),
        status.POINT_MISMATCH: ("终端设置的服务点有误", "Terminal set to another service point"),
        status.UNUSED: ("长时间无人使用", "Unused")}  # fmt: skip
ACTION = {"opened": "产生", "cleared": "已自行恢复", "recurred": "再次出现",
          "acknowledged": "确认", "closed": "关闭"}  # fmt: skip
FOLLOW = {"new": ("待处理", "New"), "assigned": ("已分派", "Assigned"),
          "contacted": ("已回访", "Contacted"), "resolved": ("已办结", "Resolved"),
          "none": ("无需跟进", "—")}  # fmt: skip
NEXT_STEP = {"new": "分派 Assign", "assigned": "已联系群众 Contacted",
             "contacted": "办结 Resolve"}  # fmt: skip
OFFLINE_ADVICE = ("可能断电、断网或程序停止：请到现场查看电源和网络",
                  "power, network or the program: check on site")
ANONYMOUS_CHECKED = ("已核实", "Checked")  # an anonymous bad rating's "contacted" step
_ANONYMOUS = '<span class="muted">无（匿名，无法回访）<small>No one to call back</small></span>'  # fmt: skip


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.astimezone(CHINA).strftime("%m-%d %H:%M:%S")


def ago(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return "从未上线 never"
    s = max(0, int((now - value).total_seconds()))
    if s < 60:
        return f"{s} 秒前"
    if s < 3600:
        return f"{s // 60} 分钟前"
    if s < 86400:
        return f"{s // 3600} 小时前"
    return f"{s // 86400} 天前"


def bi(zh: str, en: str) -> str:
    return f'{e(zh)} <span class="en">{e(en)}</span>'


def point_name(points: Mapping[str, str], code: str) -> str:
    return e(points.get(code, code))


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'


def screen_label(code: str) -> str:
    """A kiosk screen's name in both languages, its code kept in a tooltip."""
    if not code:
        return "—"
    names = SCREEN.get(code) or SCREEN.get(code.rsplit(".", 1)[-1])
    if names is None:
        return f'<span class="mono">{e(code)}</span>'
    return f'<span title="{e(code)}">{e(names[0])}<small>{e(names[1])}</small></span>'


def terminal_cell(terminal_id: str, place: str = "") -> str:
    """A terminal's id, where it stands in its hall when a technician has named it (which
    machine to walk to), and, for a technician, the way to its diagnostics and settings
    (hidden by the stylesheet from roles that may not open them; the pages check anyway)."""
    tid, q = e(terminal_id), quote(terminal_id, safe="")
    where = f'<b class="place">{e(place)}</b>' if place else ""
    return (f'{where}{tid}<span class="tech"><a href="/dashboard/diagnostics?terminal={q}">诊断包</a>'
            f'<a href="/dashboard/config?target=terminal:{q}">远程配置</a></span>')


def layout(*, title: str, county: str, user: User | None, active: str, body: str,
           csrf: str = "", refresh: int = 0, open_alerts: int = 0) -> str:  # fmt: skip
    nav = ""
    if user is not None:
        tabs = [("terminals", "终端状态", "Terminals"), ("alerts", "告警", "Alerts"),
                ("volumes", "业务量", "Volumes"), ("ratings", "好差评", "Ratings"),
                ("savings", "一件事成效", "Savings"), ("notices", "大厅公告", "Notices"),
                ("config", "远程配置", "Configuration"),
                ("diagnostics", "诊断包", "Diagnostics"), ("accounts", "账号", "Accounts"),
                ("lookups", "查询记录", "Lookups")]  # fmt: skip
        links = []
        for name, zh, en in tabs:
            if not user.may(name):
                continue
            badge = (f' <span class="count">{open_alerts}</span>'
                     if name == "alerts" and open_alerts else "")  # fmt: skip
            cls = ' class="active"' if name == active else ""
            links.append(f'<a href="/dashboard/{name}"{cls}>{bi(zh, en)}{badge}</a>')
        nav = (
            f'<nav>{"".join(links)}</nav><div class="who"><a href="/dashboard/account" '
            f'title="{e(ROLE[user.role])} · 我的账号 · 修改密码 My account"'
            f'{" class=active" if active == "account" else ""}>'
            f'{e(user.name)}</a><span class="role"> · {e(ROLE[user.role])}</span>'
            f'<form method="post" action="/dashboard/logout">{csrf_field(csrf)}'
            f'<button class="link">退出 Sign out</button></form></div>'
        )
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{meta}
<title>{e(title)} · 政务服务自助终端运行监控</title>
<link rel="stylesheet" href="{CSS}"></head>
<body{' class="may-tech"' if user is not None and user.may("diagnostics") else ""}><header><div class="brand"><span class="seal">政</span><div><b>{e(county)}政务服务自助终端</b>
<small>运行监控平台 · Kiosk operations</small></div></div>{nav}</header>
<main>{body}</main>
<footer>{f"每 {refresh} 秒自动刷新 Refreshes every {refresh} s · " if refresh else ""}不含群众个人信息 · No personal data is shown</footer>
</body></html>"""


def login_page(*, county: str, csrf: str, next_url: str, error: str = "") -> str:
    err = f'<p class="error">{e(error)}</p>' if error else ""
    body = f"""<section class="login"><h1>{bi("工作人员登录", "Staff sign-in")}</h1>{err}
<form method="post" action="/dashboard/login">{csrf_field(csrf)}
<input type="hidden" name="next" value="{e(next_url)}">
<label>{bi("用户名", "User name")}<input name="name" autocomplete="username" required autofocus></label>
<label>{bi("密码", "Password")}<input name="password" type="password" autocomplete="current-password" required></label>
<button class="primary" type="submit">登录 Sign in</button></form>
<p class="hint">账号由系统管理员用 <code>central users add</code> 创建。</p></section>"""
    return layout(title="登录", county=county, user=None, active="", body=body)


def message_page(*, county: str, user: User | None, csrf: str, title: str, text: str) -> str:
    body = f'<section class="message"><h1>{e(title)}</h1><p>{e(text)}</p>' \
           f'<p><a href="/dashboard/terminals">返回 Back</a></p></section>'  # fmt: skip
    return layout(title=title, county=county, user=user, active="", body=body, csrf=csrf)


def grid(columns: Sequence[tuple[str, str]], rows: Iterable[str], empty: str = "",
         foot: str = "") -> str:  # fmt: skip
    """A table of the dashboard's: bilingual column heads, ``rows`` (each a ``<tr>``) or,
    when there are none, one row saying ``empty``; ``foot``: the rows of a ``<tfoot>``."""
    head = "".join(f"<th>{bi(zh, en)}</th>" for zh, en in columns)
    body = "".join(rows)
    if not body and empty:
        body = f'<tr><td colspan="{len(columns)}" class="empty">{e(empty)}</td></tr>'
    tail = f"<tfoot>{foot}</tfoot>" if foot else ""
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{tail}</table>'


def point_filter(action: str, points: Mapping[str, str], visible: Iterable[str], chosen: str,
                 extra: str = "") -> str:  # fmt: skip
    everything = (
        "全部服务点 All points" if len(visible) == len(points) else "我负责的服务点 My points"
    )
    options = [f'<option value="">{everything}</option>'] + [
        f'<option value="{e(c)}"{" selected" if c == chosen else ""}>{e(points.get(c, c))}</option>'
        for c in visible
    ]
    return (f'<form class="filter" method="get" action="{action}">{extra}'
            f'<label>服务点 Service point <select name="point" onchange="this.form.submit()">'
            f'{"".join(options)}</select></label><noscript><button>筛选</button></noscript></form>')  # fmt: skip


def badge(sev: Severity) -> str:
    zh, en = SEVERITY[sev]
    return f'<span class="badge {sev.css}">{bi(zh, en)}</span>'


def _devices(v: TerminalView) -> str:
    if not v.devices:
        return '<span class="muted">—</span>'
    chips = []
    for d in v.devices:
        state = d.get("state", "")
        name = d.get("device", "")
        reason = d.get("reason") or ""
        tip = e(f"{in_chinese(reason)} {reason}".strip()) if reason else e(STATE.get(state, state))
        label = e(DEVICE.get(name, name))
        # an offline terminal's chips are its last beat's, not now's: grey, and said so
        cls = {"ok": "green", "degraded": "amber", "fault": "red"}.get(state, "grey") if v.online else "grey"
        chips.append(f'<span class="chip {cls}" title="{tip}">{label}'
                     f'{"" if state == "ok" else " · " + e(STATE.get(state, state))}</span>')  # fmt: skip
    if not v.online:
        chips.insert(0, f'<span class="muted">{bi("最后已知", "last known")}</span> ')
    return "".join(chips)


def said(reason: str) -> str:
    """What a device says is wrong (HTML): in Chinese where the words are known
    (central/dashboard/reasons.py), the driver's own under it; "" for nothing."""
    if not reason:
        return ""
    zh = in_chinese(reason)
    if not zh:  # words not known here: said to be the device's own, for a technician
        return (f'<span class="why">设备报告：{e(reason)}<small class="en">请技术员查看 '
                "for a technician</small></span>")
    return f'<span class="why">{e(zh)}<small class="en">{e(reason)}</small></span>'


def help_call(screen: str) -> tuple[str, str, str]:
    """A help request from ``screen`` for a person: (Chinese, English, what to do as HTML)."""
    if screen == PIN_FAILURES:
        # not a citizen asking for help: someone tried technician PINs (a break-in?)
        minutes = round(PIN_LOCK_SECONDS / 60)
        return ("技术员密码连续输错", "Technician PIN failures",
                f"技术员入口已锁定 {minutes} 分钟 the technician screen is locked for {minutes} min")  # fmt: skip
    if screen == CARD_LEFT:
        # nobody called: a citizen's card stayed in a reader after their visit
        return ("读卡器遗留卡片", "Card left in a reader",
                bi("请到终端取出卡片并登记保管", "collect it from the terminal and log it"))  # fmt: skip
    return (*KIND[status.HELP], f"界面 Screen: {screen_label(screen)}")


def _problems(v: TerminalView) -> str:
    parts = []
    # a citizen waiting for staff first, as on the alerts page
    for c in sorted(v.conditions, key=lambda c: c.kind != status.HELP):
        if c.kind == status.HELP:  # someone to go to: to the alerts page, to answer it there
            zh, _, what = help_call(c.detail)
            parts.append(f'<a class="problem red" href="/dashboard/alerts" data-call="{e(c.detail)}">'
                         f"{e(zh)}<small>{what}</small></a>")  # fmt: skip
            continue
        zh, _ = KIND.get(c.kind, (c.kind, c.kind))
        detail = f"（{e(DEVICE.get(c.detail, c.detail))}）" if c.detail else ""
        # what the device itself says is wrong and what to do (the drivers write it for a
        # technician: "cover open: close the printer cover"), not only a hover's tooltip
        why = said(c.reason)
        if c.kind == status.OFFLINE and not c.reason:  # as its alert says
            why = f'<span class="why">{e(OFFLINE_ADVICE[0])}</span>'
        parts.append(f'<span class="problem {c.severity.css}">{e(zh)}{detail}{why}</span>')
    return "".join(parts) or '<span class="muted">无 none</span>'


def lasted(began: dt.datetime, now: dt.datetime) -> str:
    """How long something has held: "已持续 25 分钟" (a call for staff, paper out)."""
    return f"已持续 {uptime(int((now - began).total_seconds()))}"


def _since(v: TerminalView, since: Mapping[str, dt.datetime], now: dt.datetime) -> str:
    began = since.get(v.terminal_id) if v.conditions else None
    return (f'<small class="since">{e(lasted(began, now))}（{e(when(began))} 起）</small>'
            if began else "")  # fmt: skip


def uptime(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {rest // 60} 分"
    return f"{rest // 60} 分钟" if rest >= 60 else f"{rest} 秒"


def _catalog(v: TerminalView, current: str) -> str:
    if not v.catalog_version:
        return ""
    fresh = current and v.catalog_version == current
    state = ('<span class="fresh">最新</span>' if fresh
             else '<span class="stale">待更新 outdated</span>' if current else "")  # fmt: skip
    return f'<small title="{e(v.catalog_version)}">目录 {e(v.catalog_version[:8])} {state}</small>'


def _config(v: TerminalView, pushed: int) -> str:
    if not pushed:
        return '<span class="muted">—</span>'
    if v.config_version == pushed:
        return f'<span class="chip green" data-config="applied">v{pushed} 已生效</span>'
    had = f"<small>终端 v{v.config_version}</small>" if v.config_version else ""
    return f'<span class="chip amber" data-config="pending">v{pushed} 待确认</span>{had}'


def _paper(level: str, online: bool = True) -> str:
    # an offline terminal's paper is its last beat's, not now's: grey, as its devices are
    cls = {"ok": "green", "near_end": "amber", "out": "red"}.get(level, "grey") if online else "grey"
    return f'<span class="chip {cls}">{bi(*PAPER[level])}</span>'


def _software(v: TerminalView, catalog_etag: str) -> str:
    return f"{e(v.software_version or '—')}{_catalog(v, catalog_etag)}"


def terminals_page(*, county: str, user: User, csrf: str, body: str, refresh: int,
                   open_alerts: int) -> str:  # fmt: skip
    """The terminal page around a ``terminals_body`` (which many users may share)."""
    return layout(title="终端状态", county=county, user=user, active="terminals", body=body,
                  csrf=csrf, refresh=refresh, open_alerts=open_alerts)  # fmt: skip


def terminals_body(*, views: Sequence[TerminalView], points: Mapping[str, str],
                   visible: Sequence[str], chosen: str, now: dt.datetime, offline_after: float,
                   catalog_etag: str = "", pushed: Mapping[str, int] | None = None,
                   since: Mapping[str, dt.datetime] | None = None,
                   places: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """The terminal page's content as of ``now``: the same for every user of one scope;
    ``since``: when each terminal's oldest problem still holding began, ``places``: where
    each stands in its hall (HallStore)."""
    pushed, since, places = pushed or {}, since or {}, places or {}
    counts = Counter(v.severity for v in views)
    cards = "".join(
        f'<div class="card {s.css}"><b>{counts[s]}</b>{bi(*SEVERITY[s])}</div>' for s in Severity
    )
    rows = []
    shared: dict[Any, str] = {}  # cells most terminals have alike, made once a build

    def cell(key: Any, make, *args) -> str:
        try:
            return shared[key] if key in shared else shared.setdefault(key, make(*args))
        except TypeError:  # an odd value from a terminal that cannot be a key
            return make(*args)

    for v in views:
        sev, tid = v.severity, e(v.terminal_id)
        seen_cls = "" if v.online else ' class="late"'
        devices = tuple((d.get("device"), d.get("state"), d.get("reason")) for d in v.devices)
        rows.append(
            f'<tr class="sev-{sev.css}" data-terminal="{tid}" data-severity="{sev.css}">'
            f'<td>{cell(("badge", sev), badge, sev)}</td><td class="mono">{terminal_cell(v.terminal_id, places.get(v.terminal_id, ""))}</td>'
            f"<td>{cell(('point', v.service_point), point_name, points, v.service_point)}</td>"
            f"<td{seen_cls}>{e(ago(v.last_seen, now))}<small>{e(when(v.last_seen))}</small></td>"
            f"<td>{cell(('problems', v.conditions, devices), _problems, v)}{_since(v, since, now)}</td>"
            f"<td>{cell(('devices', devices, v.online), _devices, v)}</td>"
            f"<td>{cell(('paper', v.paper, v.online), _paper, v.paper, v.online)}</td>"
            f'<td class="mono">{cell(("software", v.software_version, v.catalog_version), _software, v, catalog_etag)}</td>'
            f"<td>{e(uptime(v.uptime))}</td><td>{_config(v, pushed.get(v.terminal_id, 0))}</td>"
            f'<td>{cell(("screen", v.screen), screen_label, v.screen)}</td></tr>'
        )
    table = grid([("状态", "Status"), ("终端编号", "Terminal"), ("服务点", "Service point"),
                  ("最后心跳", "Last seen"), ("问题", "Problems"), ("设备状态", "Devices"),
                  ("打印纸", "Paper"), ("软件 · 目录版本", "Software · catalog"),
                  ("运行时长", "Uptime"), ("远程配置", "Remote config"), ("当前界面", "Screen")],
                 rows, "还没有登记的终端。登记：central terminals add-code --point 服务点 取得登记码，"
                 "在终端的维护界面输入。No terminal enrolled yet: get a code with "
                 "`central terminals add-code`, type it on the kiosk's technician screen.")  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("终端状态", "Terminals")}</h1>'
        f"{point_filter('/dashboard/terminals', points, visible, chosen)}</div>"
        f'<div class="cards">{cards}<div class="card info"><b>{len(views)}</b>'
        f"{bi('台终端', 'terminals')}<small>超过 {offline_after:g} 秒无心跳视为离线</small>"
        f'<small class="asof">数据时间 {e(when(now))}</small></div></div>' + table
    )
    return body


# what nobody has answered yet means, by the call's screen (a citizen calling by default)
UNANSWERED = {
    "": bi("还没有人确认这条呼叫，群众可能仍在等待。请先到终端处理，再关闭。",
           "Nobody has acknowledged this call yet: the citizen may still be waiting. "
           "Go to the terminal first, then close it."),
    CARD_LEFT: bi("还没有人确认，卡片可能仍在读卡器中。请先到终端取出卡片并登记保管，再关闭。",
                  "Nobody has acknowledged this yet: the card may still be in the reader. "
                  "Collect it and log it first, then close this."),
    PIN_FAILURES: bi("还没有人确认。请先到终端查看是谁在试技术员密码，再关闭。",
                     "Nobody has acknowledged this yet: see at the terminal who tried the "
                     "technician PIN first, then close this."),
}  # fmt: skip


def confirm_close_page(*, county: str, user: User, csrf: str, alert: Mapping[str, Any],
                       points: Mapping[str, str], open_alerts: int) -> str:  # fmt: skip
    """Closing a call for staff nobody has acknowledged: said again, closed only on a second
    press (no script: the pages' CSP allows none)."""
    zh, en, what = help_call(alert["detail"])
    base = f"/dashboard/alerts/{alert['id']}"
    nobody_called = alert["detail"] in (CARD_LEFT, PIN_FAILURES)  # a card left, PINs tried
    body = (
        f'<section class="message confirm" data-alert="{alert["id"]}">'
        f"<h1>{bi('关闭这条告警？', 'Close this alert?') if nobody_called else bi('关闭这条呼叫？', 'Close this call?')}</h1>"
        f"<p><b>{e(zh)}</b> {e(en)} · 终端 {e(alert['terminal_id'])} · "
        f"{point_name(points, alert['service_point'])} · {e(when(alert['opened_at']))}</p>"
        f"<p>{what}</p>"
        f"<p>{UNANSWERED.get(alert['detail'], UNANSWERED[''])}</p>"
        f'<div class="actions"><form method="post" action="{base}/acknowledge">{csrf_field(csrf)}'
        f'<button class="primary">确认，我去处理 Acknowledge</button></form>'
        f'<form method="post" action="{base}/close">{csrf_field(csrf)}'
        f'<input type="hidden" name="confirm" value="1"><button>仍然关闭 Close anyway</button></form>'
        f'<a href="/dashboard/alerts">返回告警 Back to alerts</a></div></section>'
    )
    return layout(title="关闭呼叫", county=county, user=user, active="alerts", body=body, csrf=csrf,
                  open_alerts=open_alerts)  # fmt: skip


def _history(items: Sequence[Mapping[str, Any]], label) -> str:
    lines = "".join(
        f"<li>{e(when(h['at']))} · {e(label(h))}{' · ' + e(h['by']) if h.get('by') else ''}"
        f"{' · ' + e(h['note']) if h.get('note') else ''}</li>"
        for h in items
    )
    return f"<details><summary>记录 History ({len(items)})</summary><ul>{lines}</ul></details>"


def alerts_page(*, county: str, user: User, csrf: str, alerts: Sequence[Mapping[str, Any]],
                points: Mapping[str, str], visible: Sequence[str], chosen: str, closed: bool,
                open_alerts: int, refresh: int = 0, now: dt.datetime | None = None,
                places: Mapping[str, str] | None = None, more: bool = False,
                done: str = "") -> str:  # fmt: skip
    """``more``: there are alerts beyond those in ``alerts``, not shown (said under them);
    ``done``: what the person just did ("closed"), said over them."""
    now, places = now or dt.datetime.now(dt.UTC), places or {}
    rows = []
    for a in alerts:
        cond = status.Condition(a["kind"], a["detail"])
        zh, en = KIND.get(a["kind"], (a["kind"], a["kind"]))
        if a["kind"] == status.HELP:
            zh, en, detail = help_call(a["detail"])
        elif a["kind"] in (status.CORRECTION, status.POINT_MISMATCH):  # what about, what to do
            detail = f'<span class="mono">{e(a["detail"])}</span><br>{e(a.get("reason") or "")}'
        elif a["kind"] == status.OFFLINE and a.get("reason"):  # never heard from at all
            detail = said(a["reason"])
        elif a["kind"] == status.OFFLINE:  # what to look at: the terminal says nothing now
            detail = bi(*OFFLINE_ADVICE)
        else:
            detail = e(DEVICE.get(a["detail"], a["detail"]))
            if a.get("reason"):  # the device's own words when the alert opened
                detail += said(a["reason"])
            detail = detail or "—"
        if a["closed_at"]:
            state = f'<span class="chip grey">已关闭 Closed</span><small>{e(a["closed_by"])} {e(when(a["closed_at"]))}</small>'
        elif a["acknowledged_at"]:
            state = f'<span class="chip amber">已确认 Acknowledged</span><small>{e(a["acknowledged_by"])} {e(when(a["acknowledged_at"]))}</small>'
        else:
            state = '<span class="chip red">待确认 New</span>'
        live = (f'<span class="chip green">已恢复 Recovered</span><small>{e(when(a["cleared_at"]))}</small>'
                if a["cleared_at"] else '<span class="chip red">持续中 Ongoing</span>')  # fmt: skip
        if a["kind"] == status.HELP and a["detail"] == CARD_LEFT and a["cleared_at"]:
            live = (f'<span class="chip green">卡片已取走 Taken</span>'
                    f'<small>{e(when(a["cleared_at"]))}</small>')  # fmt: skip
        elif a["kind"] in status.BY_PEOPLE:
            live = ""
        actions = ""
        if not a["closed_at"]:
            base = f"/dashboard/alerts/{a['id']}"
            if not a["acknowledged_at"]:
                actions += (f'<form method="post" action="{base}/acknowledge">{csrf_field(csrf)}'
                            f'<button class="primary">确认 Acknowledge</button></form>')  # fmt: skip
            # (an unanswered call is asked about again first: see confirm_close_page)
            if still_ongoing(a):  # closed, it would open again at once, as a new alert
                actions += '<small class="hint">恢复后可关闭 Close once recovered</small>'
            elif needs_contact_note(a):  # the only reminder: closed with how they were told
                actions += (f'<form class="contact" method="post" action="{base}/close">'
                            f'{csrf_field(csrf)}<input name="note" required maxlength="{NOTE_MAX}" '
                            'placeholder="如何告知了申请人" '
                            'aria-label="如何告知了申请人 How the applicant was told">'
                            '<small class="privacy">勿填电话、姓名等个人信息 No personal data</small>'
                            '<button>已告知，关闭 Told, close</button>'
                            '<small class="hint">申请人的联系方式在办件中：请受理部门按办件编号查阅并告知。'
                            "The applicant's contact is in the application: its office looks it "
                            "up by the number.</small></form>")  # fmt: skip
            else:
                actions += (f'<form method="post" action="{base}/close">{csrf_field(csrf)}'
                            f'<button>关闭 Close</button></form>')  # fmt: skip
        # how long it has held, at a glance (a call waiting 25 minutes): while it still does
        since = ("" if a["closed_at"] or a["cleared_at"]
                 else f'<small class="since">{e(lasted(a["opened_at"], now))}</small>')  # fmt: skip
        # recovered by itself: no longer red (it waits only for someone to close it)
        now_sev = Severity.GREEN if a["cleared_at"] else cond.severity
        sev = Severity.GREEN if a["closed_at"] else now_sev
        rows.append(
            f'<tr class="sev-{sev.css}" data-alert="{a["id"]}" data-kind="{e(a["kind"])}" '
            f'data-terminal="{e(a["terminal_id"])}"><td>{badge(now_sev)}</td>'
            f"<td><b>{e(zh)}</b><small>{e(en)}</small></td>"
            f'<td class="mono">{terminal_cell(a["terminal_id"], places.get(a["terminal_id"], ""))}</td><td>{point_name(points, a["service_point"])}</td>'
            f"<td>{detail}</td><td>{e(when(a['opened_at']))}{since}</td><td>{live}</td><td>{state}</td>"
            f'<td class="actions">{actions}{_history(a["history"], lambda h: ACTION.get(h["action"], h["action"]))}</td></tr>'
        )
    tabs = (f'<div class="tabs"><a href="/dashboard/alerts?point={quote(chosen)}"'
            f'{"" if closed else " class=active"}>未关闭 Open</a>'
            f'<a href="/dashboard/alerts?view=closed&point={quote(chosen)}"'
            f'{" class=active" if closed else ""}>已关闭 Closed</a></div>')  # fmt: skip
    extra = '<input type="hidden" name="view" value="closed">' if closed else ""
    table = grid([("级别", "Level"), ("告警", "Alert"), ("终端", "Terminal"),
                  ("服务点", "Service point"), ("详情", "Detail"), ("发生时间", "Opened"),
                  ("现状", "Now"), ("处理", "Handling"), ("操作", "Actions")],
                 rows, "没有告警 No alerts")  # fmt: skip
    if more:  # never a silent cut: a county's fleet can have more than a page holds
        table += ('<p class="hint more-alerts">只显示最近关闭的 {n} 条。Only the {n} most recently closed are shown.</p>'
                  if closed else
                  '<p class="hint more-alerts">只显示最先要处理的 {n} 条，其余未列出：请按服务点筛选。'
                  "Only the first {n} to handle are shown: choose a service point to see the rest.</p>"
                  ).format(n=len(alerts))  # fmt: skip
    banner = ('<p class="done" role="status">已关闭，处理记录在“已关闭”中。Closed; its history '
              "is under Closed.</p>" if done == "closed" else "")  # fmt: skip
    body = (f'<div class="titlebar"><h1>{bi("告警", "Alerts")}</h1>{tabs}'
            f"{point_filter('/dashboard/alerts', points, visible, chosen, extra)}</div>{banner}{table}")  # fmt: skip
    return layout(title="告警", county=county, user=user, active="alerts", body=body, csrf=csrf, refresh=refresh,
                  open_alerts=open_alerts)  # fmt: skip


def ratings_page(*, county: str, user: User, csrf: str, distribution: Mapping[int, int],
                 bad: Sequence[Mapping[str, Any]], points: Mapping[str, str],
                 visible: Sequence[str], chosen: str, reasons: Mapping[str, tuple[str, str]],
                 open_alerts: int, places: Mapping[str, str] | None = None) -> str:  # fmt: skip
    total = sum(distribution.values())
    good = distribution.get(4, 0) + distribution.get(5, 0)
    names = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    bars = []
    for level in range(5, 0, -1):
        n = distribution.get(level, 0)
        pct = 100 * n / total if total else 0
        cls = "green" if level >= 4 else "amber" if level == 3 else "red"
        bars.append(
            f'<div class="bar" data-level="{level}"><span class="stars">{"★" * level}{"☆" * (5 - level)}</span>'
            f'<span class="lname">{names[level]}</span><span class="track"><span class="fill {cls}" '
            f'style="width:{pct:.1f}%"></span></span><span class="n">{n}</span>'
            f'<span class="pct">{pct:.0f}%</span></div>'
        )
    rate = f"{100 * good / total:.1f}%" if total else "—"
    # coloured by how it stands: green at the 95 % halls are held to, amber from 85 %, else red
    rate_cls = ("grey" if not total else "green" if good >= 0.95 * total
                else "amber" if good >= 0.85 * total else "red")  # fmt: skip
    rows = []
    for r in bad:
        state = r["follow_up"]
        # a rating with no application or slip to it names no one to call back: its follow-up
        # is checking and putting right what it says ("已联系群众" had no one to contact)
        anonymous = not (r["number"] or r["reference"])
        follow = {**FOLLOW, "contacted": ANONYMOUS_CHECKED} if anonymous else FOLLOW
        steps = {**NEXT_STEP, "assigned": "已核实整改 Checked"} if anonymous else NEXT_STEP
        fz, fe = follow.get(state, (state, state))
        cls = {"new": "red", "assigned": "amber", "contacted": "amber", "resolved": "green"}.get(
            state, "grey"
        )
        why = (
            "".join(
                f'<span class="chip grey">{e(reasons.get(x, (x, x))[0])}</span>'
                for x in r["reasons"]
            )
            or '<span class="muted">未选原因 none given</span>'
        )
        form = ""
        if state in steps:
            assignee = ('<input name="assignee" placeholder="责任人 Assignee" maxlength="64">'
                        if state == "new" else "")  # fmt: skip
            form = (f'<form class="follow" method="post" action="/dashboard/ratings/{r["id"]}/follow-up">'
                    f'{csrf_field(csrf)}<input type="hidden" name="seen" value="{e(state)}">{assignee}'
                    f'<input name="note" placeholder="备注（勿填个人信息）" maxlength="200">'
                    f'<button class="primary">{e(steps[state])}</button></form>')  # fmt: skip
        rows.append(
            f'<tr data-rating="{r["id"]}" data-follow="{e(state)}"><td>{e(when(r["at"]))}</td>'
            f'<td class="stars red-text">{"★" * r["level"]}{"☆" * (5 - r["level"])}</td><td>{why}</td>'
            f'<td class="mono">{terminal_cell(r["terminal_id"], (places or {}).get(r["terminal_id"], ""))}</td>'
            f'<td>{point_name(points, r["service_point"] or "")}</td>'
            + (f'<td class="mono">{e(r["number"] or r["reference"])}</td>' if not anonymous
               else f"<td>{_ANONYMOUS}</td>")
            + f'<td><span class="chip {cls}">{bi(fz, fe)}</span><small>{e(r["assigned_to"] or "")}</small></td>'
            f'<td class="actions">{form}{_history(r["history"], lambda h, f=follow: f.get(h["state"], (h["state"],))[0])}</td></tr>'
        )
    table = grid([("时间", "Time"), ("评价", "Stars"), ("原因", "Reasons"), ("终端", "Terminal"),
                  ("服务点", "Service point"), ("办件编号", "Application"),
                  ("跟进", "Follow-up"), ("操作", "Actions")],
                 rows, ("没有差评 No bad ratings" if total
                        else "近 30 天还没有评价 No ratings in the last 30 days"))  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("好差评", "Ratings")}</h1>'
        f"{point_filter('/dashboard/ratings', points, visible, chosen)}</div>"
        f'<div class="split"><section class="panel"><h2>{bi("近 30 天评价分布", "Last 30 days")}</h2>'
        f'{"".join(bars)}</section><section class="panel kpi {rate_cls}"><b>{rate}</b>'
        f"{bi('满意率（4–5 星）', 'Satisfied')}<small>共 {total} 条评价</small></section></div>"
        f"<h2>{bi('差评及整改跟进', 'Bad ratings and follow-up')}</h2>{table}"
    )
    return layout(title="好差评", county=county, user=user, active="ratings", body=body, csrf=csrf,
                  open_alerts=open_alerts)  # fmt: skip


def savings_page(*, county: str, user: User, csrf: str, rows: Sequence[Mapping[str, Any]],
                 open_alerts: int) -> str:  # fmt: skip
    def pct(before: int, after: int) -> str:
        return f"{100 * (1 - after / before):.0f}%" if before else "—"

    body_rows = []
    for r in rows:
        saved = pct(r["fields_separate"], r["fields_typed"])
        msaved = pct(r["materials_separate"], r["materials_handed"])
        body_rows.append(
            f'<tr><td><b>{e(r["name"])}</b><small>{e(r["code"])}</small></td><td class="num">{r["matters"]}</td>'
            f'<td class="num">{r["fields_separate"]} → <b>{r["fields_typed"]}</b></td><td class="num good">{saved}</td>'
            f'<td class="num">{r["materials_separate"]} → <b>{r["materials_handed"]}</b></td>'
            f'<td class="num good">{msaved}</td><td class="num">{r["submitted"]}</td></tr>'
        )
    fs = sum(r["fields_separate"] for r in rows)
    ft = sum(r["fields_typed"] for r in rows)
    ms = sum(r["materials_separate"] for r in rows)
    mh = sum(r["materials_handed"] for r in rows)
    n = sum(r["submitted"] for r in rows)
    table = grid([("一件事", "Life event"), ("事项数", "Matters"),
                  ("填写项 分别办→一次办", "Fields typed"), ("少填", "Saved"),
                  ("材料 分别办→一次办", "Materials"), ("少交", "Saved"),
                  ("近 30 天提交", "Submitted, 30 d")], body_rows,
                 foot=f'<tr><td><b>合计 Total</b></td><td></td><td class="num">{fs} → <b>{ft}</b></td>'
                 f'<td class="num good">{pct(fs, ft)}</td><td class="num">{ms} → <b>{mh}</b></td>'
                 f'<td class="num good">{pct(ms, mh)}</td><td class="num">{n}</td></tr>')  # fmt: skip
    body = (f'<div class="titlebar"><h1>{bi("一件事成效", "What bundling saves")}</h1></div>'
            '<p class="lead">每件事按办理事项最多的情形计：分别到各部门办理需填写的项目和提交的材料，'
            '与在自助终端“一件事一次办”相比（身份证读取自动填写）。</p>' + table)  # fmt: skip
    return layout(title="一件事成效", county=county, user=user, active="savings", body=body,
                  csrf=csrf, open_alerts=open_alerts)  # fmt: skip
