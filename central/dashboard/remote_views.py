"""HTML for remote configuration (远程配置): the form for one point or terminal, the
settings in force, and what each terminal has acknowledged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from central.dashboard.data import PLACE_MAX, User
from central.dashboard.remote import Changed
from central.dashboard.views import ago, bi, csrf_field, e, grid, layout, terminal_cell, when

FIELDS = (
    ("inactivity", "无操作多久后提醒（秒）", "Idle before the prompt (s)", "30–900"),
    ("warning", "提醒倒计时（秒）", "Countdown (s)", "20–180"),
    ("elderly_factor", "老年模式时间倍数", "Elderly-mode factor", "1–4"),
)
DEFAULTS = {
    "inactivity": 90,
    "warning": 30,
    "elderly_factor": 2.0,
}  # kiosk/config.py TimeoutsConfig


def changed_note(changed: Changed) -> str:
    """Why a save was refused: who saved the same settings since the form was opened (HTML)."""
    who = f"{e(changed.by)}（{e(when(changed.at))}）" if changed.by else "他人"
    return (f"未保存：打开此页后，{who}修改了这些设置（例如大厅公告）。下面显示的是现在的设置，"
            "请核对后重新修改并保存。Not saved: someone changed these settings after this page "
            "was opened (a hall's notices, perhaps). Below is what is in force now: make your "
            "change again and save.")


def summary(settings: Mapping[str, Any]) -> str:
    parts = []
    if "inactivity" in settings:
        parts.append(f"提醒 {settings['inactivity']} 秒")
    if "warning" in settings:
        parts.append(f"倒计时 {settings['warning']} 秒")
    if "elderly_factor" in settings:
        parts.append(f"老年 ×{settings['elderly_factor']:g}")
    if "elderly_default" in settings:
        parts.append("默认老年模式" if settings["elderly_default"] else "默认标准模式")
    if "notices" in settings:
        parts.append(f"公告 {len(settings['notices'])} 条")
    if "place" in settings:
        parts.append(f"位置 {settings['place']}")
    return " · ".join(parts) or "（全部继承）"


def _target_options(points: Mapping[str, str], visible: Sequence[str],
                    terminals: Sequence[tuple[str, str]], chosen: str,
                    places: Mapping[str, str] | None = None) -> str:  # fmt: skip
    places = places or {}
    by_point: dict[str, list[str]] = {}
    for terminal_id, point in terminals:
        by_point.setdefault(point, []).append(terminal_id)
    out = ['<option value="">请选择 Choose…</option>']
    for p in visible:
        name = points.get(p, p)
        items = [(f"point:{p}", f"{name}（整个服务点 whole point）")] + [
            (f"terminal:{tid}", f"　终端 {tid}" + (f"（{places[tid]}）" if places.get(tid) else ""))
            for tid in by_point.get(p, [])
        ]
        out.append(f'<optgroup label="{e(name)}">' + "".join(
            f'<option value="{e(v)}"{" selected" if v == chosen else ""}>{e(label)}</option>'
            for v, label in items) + "</optgroup>")  # fmt: skip
    return "".join(out)


def _target_name(target: str, points: Mapping[str, str]) -> str:
    scope, _, ident = target.partition(":")
    return f"{points.get(ident, ident)}（整个服务点）" if scope == "point" else f"终端 {ident}"


def config_page(*, county: str, user: User, csrf: str, points: Mapping[str, str],
                visible: Sequence[str], terminals: Sequence[tuple[str, str]], chosen: str,
                own: Mapping[str, Any], inherited: Mapping[str, Any],
                configs: Sequence[Mapping[str, Any]], status: Sequence[Mapping[str, Any]],
                problems: Mapping[str, str], saved: str, open_alerts: int, version: int = 0,
                changed: Changed | None = None, revoked: str = "",
                revoke_error: str = "", place: str = "", place_error: str = "",
                placed: bool = False, places: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """``version``: of the settings the form shows (saved with it: a save made meanwhile
    refuses it); ``changed``: such a refusal, the form showing the settings as they are now."""
    picker = (
        '<form class="filter wide" method="get" action="/dashboard/config">'
        f'<label>配置对象 Applies to<select name="target" onchange="this.form.submit()">'
        f"{_target_options(points, visible, terminals, chosen, places)}</select></label>"
        "<noscript><button>选择</button></noscript>"
        '<span class="muted">终端自己的设置覆盖所在服务点的设置；留空即继承。终端在下次心跳时收到并确认。'
        "A terminal's own settings override its point's; an empty box inherits.</span></form>"
    )
    form = ""
    if chosen:
        boxes = []
        for name, zh, en, span in FIELDS:
            value = own.get(name, "")
            hint = inherited.get(name, DEFAULTS[name])
            err = f'<small class="bad">范围 {e(problems[name])}</small>' if name in problems else ""
            boxes.append(
                f'<label>{bi(zh, en)}<input name="{name}" inputmode="decimal" value="{e(value)}" '
                f'placeholder="继承 {e(hint)}"><small>{span}</small>{err}</label>'
            )
        elderly = own.get("elderly_default")
        inherit_elderly = inherited.get("elderly_default")
        inherit_label = ("继承：开启" if inherit_elderly else "继承：关闭"
                         if inherit_elderly is not None else "继承终端本地设置")  # fmt: skip
        options = "".join(
            f'<option value="{v}"{" selected" if sel else ""}>{label}</option>'
            for v, label, sel in (("", inherit_label, elderly is None),
                                  ("on", "开启 On", elderly is True),
                                  ("off", "关闭 Off", elderly is False))
        )  # fmt: skip
        notices = "\n".join(own.get("notices", []))
        placeholder = (
            "\n".join(inherited.get("notices", [])) or "每行一条公告，最多 8 条，每条不超过 80 字；英文译文可写在“|”之后"
        )
        n_err = (
            f'<small class="bad">{e(problems["notices"])}</small>' if "notices" in problems else ""
        )
        form = (
            f'<form class="panel config" method="post" action="/dashboard/config">{csrf_field(csrf)}'
            f'<input type="hidden" name="target" value="{e(chosen)}">'
            f'<input type="hidden" name="version" value="{int(version)}">'
            f'<h2>{bi("设置", "Settings")} <span class="muted">{e(_target_name(chosen, points))}</span></h2>'
            f'<div class="boxes">{"".join(boxes)}'
            f'<label>{bi("老年模式默认", "Elderly mode by default")}<select name="elderly_default">'
            f"{options}</select><small>大字、慢速、语音提示</small></label></div>"
            f'<label class="wide">{bi("待机屏公告", "Attract-screen notices")}'
            f'<textarea name="notices" rows="4" placeholder="{e(placeholder)}">{e(notices)}</textarea>'
            f"<small>每行一条，英文译文（可选）写在“|”之后；留空则继承。"
            f"One a line, its English (optional) after “|”; empty inherits.</small>{n_err}</label>"
            '<button class="primary">保存并下发 Save and push</button></form>'
        )
        scope, _, ident = chosen.partition(":")
        if scope == "terminal":  # where it stands, for the hall's staff to find it
            form += (
                f'<form class="panel place" method="post" action="/dashboard/terminals/place">'
                f'{csrf_field(csrf)}<input type="hidden" name="terminal" value="{e(ident)}">'
                f'<h2>{bi("终端位置", "Place in the hall")}</h2>'
                f'<label>{bi("大厅里的位置", "Where it stands")}'
                f'<input name="place" value="{e(place)}" maxlength="{PLACE_MAX}" '
                'placeholder="例：东侧入口 1 号机"></label>'
                '<p class="hint">显示在终端编号旁，值班人员据此找到这台终端。'
                "Shown beside its id, for the staff to find the machine.</p>"
                '<button class="primary">保存 Save</button></form>'
            )
        if scope == "terminal":  # an id that is no longer in use: refused from now on
            form += (
                f'<form class="panel revoke" method="post" action="/dashboard/terminals/revoke">'
                f'{csrf_field(csrf)}<input type="hidden" name="terminal" value="{e(ident)}">'
                f'<h2>{bi("停用终端", "Revoke this terminal")}</h2>'
                '<p class="hint">停用后，平台拒绝这个终端编号的一切请求（例如重新登记过、已撤走或丢失的终端），'
                "不可恢复；要再用这台终端须重新登记。A revoked id is refused from now on, for good: "
                "a re-enrolled, removed or lost terminal. To use the kiosk again, enrol it anew.</p>"
                f'<label>{bi("输入终端编号以确认", "Type the terminal id to confirm")}'
                '<input name="confirm" autocomplete="off" spellcheck="false"></label>'
                '<button class="danger">停用 Revoke</button></form>'
            )
    banner = ""
    if revoke_error or place_error:
        banner = f'<p class="error" role="alert">{e(revoke_error or place_error)}</p>'
    elif placed:
        banner = f'<p class="done" role="status">{bi("位置已保存。", "Place saved.")}</p>'
    elif revoked:
        banner = (f'<p class="done" role="status">终端 {e(revoked)} 已停用。'
                  f"Terminal {e(revoked)} is revoked.</p>")  # fmt: skip
    elif changed is not None:
        banner = f'<p class="error" role="alert">{changed_note(changed)}</p>'
    elif saved:
        banner = (f'<p class="done" role="status">已保存为版本 {e(saved)}，终端将在下次心跳时收到。'
                  f"Saved as version {e(saved)}; terminals take it at their next heartbeat.</p>")  # fmt: skip
    elif problems:
        banner = '<p class="error" role="alert">有设置超出范围，未保存。Some values are out of range; nothing was saved.</p>'
    config_rows = "".join(
        f'<tr data-scope="{e(c["scope"])}:{e(c["scope_id"])}"><td>{"服务点" if c["scope"] == "point" else "终端"}</td>'
        f'<td><a href="/dashboard/config?target={quote(c["scope"] + ":" + c["scope_id"], safe="")}">'
        f"{e(points.get(c['scope_id'], c['scope_id']))}</a></td><td>{e(summary(c['settings']))}</td>"
        f'<td class="num">v{c["version"]}</td><td>{e(c["updated_by"])}<small>{e(when(c["updated_at"]))}</small></td></tr>'
        for c in configs
    )
    status_rows = []
    for s in status:
        pushed, acked = s["pushed"], s["acknowledged"]
        if not pushed:
            chip = '<span class="chip grey">未下发 None</span>'
        elif acked == pushed:
            chip = '<span class="chip green">已生效 Applied</span>'
        else:
            chip = '<span class="chip amber">待终端确认 Pending</span>'
        status_rows.append(
            f'<tr data-terminal="{e(s["terminal_id"])}" data-pushed="{pushed}" '
            f'data-acknowledged="{acked if acked is not None else ""}">'
            f'<td class="mono">{terminal_cell(s["terminal_id"], (places or {}).get(s["terminal_id"], ""))}</td>'
            f'<td>{e(points.get(s["service_point"], s["service_point"]))}</td>'
            f'<td class="num">{f"v{pushed}" if pushed else "—"}</td>'
            f'<td class="num">{f"v{acked}" if acked else "—"}</td><td>{chip}</td>'
            f"<td>{e(summary(s['settings'])) if pushed else '—'}</td>"
            f"<td>{e(ago(s['last_seen'], _now())) if s['last_seen'] else '从未上线 never'}</td></tr>"
        )
    body = (
        f'<div class="titlebar"><h1>{bi("远程配置", "Remote configuration")}</h1>'
        '<span class="muted">超时时间 · 待机屏公告 · 老年模式默认</span></div>'
        f"{picker}{banner}{form}"
        f'<h2>{bi("当前配置", "Settings in force")}</h2>'
        + grid([("层级", "Level"), ("对象", "Applies to"), ("设置", "Settings"),
                ("版本", "Version"), ("修改人", "Changed by")],
               [config_rows], "尚未下发任何配置 Nothing pushed yet")
        + f"<h2>{bi('各终端下发与确认', 'Pushed and acknowledged, per terminal')}</h2>"
        + grid([("终端", "Terminal"), ("服务点", "Service point"), ("已下发", "Pushed"),
                ("终端已确认", "Acknowledged"), ("状态", "State"), ("下发的设置", "Settings pushed"),
                ("最后心跳", "Last seen")], status_rows, "没有终端 No terminals")
    )  # fmt: skip
    return layout(title="远程配置", county=county, user=user, active="config", body=body, csrf=csrf,
                  open_alerts=open_alerts)  # fmt: skip


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)
