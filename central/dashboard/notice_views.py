"""HTML for a hall's attract-screen notices (大厅公告): each service point in the user's
scope, its notices in a box to edit, and how many of its terminals show them yet. A hall
manager keeps these (an outage tonight, a holiday's hours); the rest of the remote settings
stay a technician's (``remote_views``). Helpers come from ``views``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from central.dashboard.data import User
from central.dashboard.remote import MAX_NOTICES, NOTICE_CHARS
from central.dashboard.views import bi, csrf_field, e, layout, point_filter, when


def notices_page(*, county: str, user: User, csrf: str, points: Mapping[str, str],
                 visible: Sequence[str], current: Mapping[str, Mapping[str, Any]],
                 status: Mapping[str, Mapping[str, int]], problems: Mapping[str, str],
                 typed: Mapping[str, str], saved: str, open_alerts: int,
                 seen: Mapping[str, int | None] | None = None, chosen: str = "") -> str:  # fmt: skip
    """``current``: each point's remote settings row; ``status``: per point its terminals,
    those that applied the latest settings, and those with notices of their own;
    ``typed``: a refused form's text, by point, and ``seen`` the version it was made from.
    A problem's text is HTML (escaped by whoever wrote it)."""
    panels = []
    # one hall's panel when one is chosen (a county's administrator has every hall's)
    for point in [chosen] if chosen else visible:
        row = current.get(point) or {}
        lines = (row.get("settings") or {}).get("notices", [])
        text = typed.get(point, "\n".join(lines))
        counts = status.get(point, {"terminals": 0, "applied": 0, "own": 0})
        err = (f'<p class="error" role="alert">{problems[point]}</p>' if point in problems
               else "")  # fmt: skip
        version = (seen or {}).get(point)
        version = row.get("version", 0) if version is None else version
        done = ('<p class="done" role="status">已保存，终端将在下次心跳（30 秒内）时显示。'
                "Saved; the terminals show it at their next heartbeat (within 30 s).</p>"
                if saved == point and not err else "")  # fmt: skip
        own = (f"<br>其中 {counts['own']} 台终端另有技术员设置的公告，不受此处影响。"
               f"{counts['own']} have notices of their own, set by a technician."
               if counts["own"] else "")  # fmt: skip
        if row.get("notices_by"):
            who = (f"公告最后修改 Notices last changed：{e(row['notices_by'])} · "
                   f"{e(when(row['notices_at']))}")  # fmt: skip
        elif lines and row.get("updated_by"):  # set before their own change was kept apart
            who = (f"设置最后修改 Settings last changed：{e(row['updated_by'])} · "
                   f"{e(when(row['updated_at']))}")  # fmt: skip
        else:
            who = "尚未设置公告 No notices set yet"
        panels.append(
            f'<form class="panel notices" id="point-{e(point)}" data-point="{e(point)}" '
            f'method="post" action="/dashboard/notices">{csrf_field(csrf)}'
            f'<input type="hidden" name="point" value="{e(point)}">'
            f'<input type="hidden" name="version" value="{int(version)}">'
            f"<h2>{e(points.get(point, point))}</h2>{err}{done}"
            f'<label class="wide">{bi("待机屏公告", "Attract-screen notices")}'
            f'<textarea name="notices" rows="5" placeholder="例：今晚 22:00—24:00 系统维护，'
            f'暂停自助服务 | Self-service pauses tonight 22:00–24:00 for maintenance">{e(text)}</textarea>'
            f"<small>每行一条，最多 {MAX_NOTICES} 条，每条不超过 {NOTICE_CHARS} 字；英文译文（可选）写在“|”之后；"
            f"全部删除即恢复各终端本机设置的公告。One a line, at most {MAX_NOTICES}; its English "
            f"(optional) after “|”; clear them all and each kiosk shows its own again.</small></label>"
            f'<p class="hint">本服务点 {counts["terminals"]} 台终端，{counts["applied"]} 台已显示最新设置。'
            f'{counts["applied"]} of {counts["terminals"]} terminals show the latest.{own}'
            f"<br>{who}</p>"
            '<button class="primary">保存并下发 Save and push</button></form>'
        )
    pick = point_filter("/dashboard/notices", points, visible, chosen) if len(visible) > 1 else ""
    body = (f'<div class="titlebar"><h1>{bi("大厅公告", "Hall notices")}</h1>{pick}</div>'
            '<p class="lead">自助终端待机时轮流显示的公告，例如停电、节假日时间安排。'
            "The notices the kiosks show in turn while idle: a power cut, a holiday's hours.</p>"
            + ("".join(panels) or '<p class="muted">没有负责的服务点 No service points</p>'))  # fmt: skip
    return layout(title="大厅公告", county=county, user=user, active="notices", body=body,
                  csrf=csrf, open_alerts=open_alerts)  # fmt: skip
