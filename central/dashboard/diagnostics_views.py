"""HTML for the diagnostics page (诊断包): ask a terminal for a bundle, download the uploads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from central.dashboard.data import User
from central.dashboard.diagnostics import OPEN_FOR
from central.dashboard.views import bi, csrf_field, e, grid, layout, when


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def diagnostics_page(
    *,
    county: str,
    user: User,
    csrf: str,
    bundles: Sequence[Mapping[str, Any]],
    terminals: Sequence[tuple[str, str]],
    points: Mapping[str, str],
    chosen: str,
    asked: str,
    heartbeat_seconds: int,
    open_alerts: int,
) -> str:
    groups: dict[str, list[str]] = {}
    for terminal_id, point in terminals:
        groups.setdefault(point, []).append(terminal_id)
    options = "".join(
        f'<optgroup label="{e(points.get(p, p))}">'
        + "".join(
            f'<option value="{e(tid)}"{" selected" if tid == chosen else ""}>{e(tid)}</option>'
            for tid in ids
        )
        + "</optgroup>"
        for p, ids in groups.items()
    )
    form = (
        '<form class="filter wide" method="post" action="/dashboard/diagnostics">'
        f"{csrf_field(csrf)}<label>终端 Terminal<select name=terminal required>"
        f'<option value="">请选择终端 Choose a terminal</option>{options}</select></label>'
        '<button class="primary">请求诊断包 Request a bundle</button>'
        f'<span class="muted">终端在下次心跳时（约 {heartbeat_seconds} 秒内）打包日志、版本、设备记录和配置并上传；'
        "不含群众个人信息，上传时平台再次检查。</span></form>"
    )
    done = (
        f'<p class="done" role="status">已向终端 <b class="mono">{e(asked)}</b> 请求诊断包，'
        "上传后即可在下表下载。The terminal uploads it at its next heartbeat.</p>"
        if asked
        else ""
    )
    rows = []
    for b in bundles:
        uploaded = b["state"] == "uploaded"
        if uploaded:
            state = f'<span class="chip green">已上传 Uploaded</span><small>{e(when(b["uploaded_at"]))}</small>'
        elif b["state"].startswith("refused"):  # sent, and not kept: why, and what to do
            why = {"refused:personal": ("含有个人信息", "personal data found in it"),
                   "refused:size": ("文件过大", "too large")}.get(
                b["state"], ("不是有效的诊断包", "not a valid bundle"))  # fmt: skip
            state = (f'<span class="chip red">已拒收 Refused</span><small>{bi(*why)}：'
                     "请到现场用 kiosk diagnostics --out 导出后检查 export it on site</small>")  # fmt: skip
        elif b.get("expired"):  # the terminal is no longer asked: say so, not "waiting" for ever
            state = ('<span class="chip grey">已过期 Expired</span>'
                     f'<small>终端 {OPEN_FOR.days} 天内未上传 not sent within {OPEN_FOR.days} days</small>')  # fmt: skip
        else:
            state = '<span class="chip amber">等待终端上传 Waiting</span>'
        who = e(b["requested_by"]) if b["requested_by"] else "终端现场上传 at the terminal"
        action = (
            f'<a class="button primary" href="/dashboard/diagnostics/{b["id"]}.zip" download>'
            "下载 Download</a>"
            if uploaded
            else ""
        )
        rows.append(
            f'<tr data-bundle="{b["id"]}" data-state="{e(b["state"])}" '
            f'data-terminal="{e(b["terminal_id"])}"><td class="num">{b["id"]}</td>'
            f'<td class="mono">{e(b["terminal_id"])}</td><td>{e(points.get(b["service_point"], b["service_point"]))}</td>'
            f"<td>{who}<small>{e(when(b['requested_at']))}</small></td><td>{state}</td>"
            f'<td class="num">{_size(b["size"]) if uploaded else "—"}</td>'
            f'<td class="mono" title="SHA-256 {e(b["sha256"])}">{e(b["sha256"][:12]) or "—"}</td>'
            f'<td class="actions">{action}</td></tr>'
        )
    table = grid([("编号", "No."), ("终端", "Terminal"), ("服务点", "Service point"),
                  ("请求人", "Asked by"), ("状态", "State"), ("大小", "Size"),
                  ("校验值", "SHA-256"), ("操作", "Actions")],
                 rows, "还没有诊断包 No bundles yet")  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("诊断包", "Diagnostics")}</h1>'
        '<span class="muted">日志 · 版本 · 设备记录 · 配置（已去除密钥）</span></div>'
        f"{form}{done}{table}"
        '<p class="hint">也可在终端上运行 <code>kiosk diagnostics --out 文件.zip --upload</code>。</p>'
    )
    return layout(
        title="诊断包",
        county=county,
        user=user,
        active="diagnostics",
        body=body,
        csrf=csrf,
        open_alerts=open_alerts,
    )
