"""HTML for accounts: one's own password (every user) and the administrator's list of users
(disable, enable, reset a password). Helpers come from ``views``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from central.dashboard.data import User
from central.dashboard.views import ROLE, bi, csrf_field, e, grid, layout, when

DONE = {
    "password": "密码已修改，其他设备上的登录已失效。Password changed; other sign-ins have ended.",
    "disabled": "账号已停用，其登录立即失效。The account is disabled and signed out.",
    "enabled": "账号已启用。The account is enabled again.",
    "reset": "密码已重置，该用户须用新密码重新登录。Password reset; the user signs in again with it.",
}
PROBLEM = {
    "confirm": "未停用：请勾选确认。Not disabled: tick the box to confirm.",
    "old": "原密码不正确。The current password is wrong.",
    "repeat": "两次输入的新密码不一致。The new passwords differ.",
    "short": "新密码至少 8 个字符。The new password needs at least 8 characters.",
    "name": "新密码不能与用户名相同。The password cannot be the user name.",
    "same": "新密码不能与原密码相同。The new password must differ from the current one.",
}


def banner(done: str, problem: str, subject: str = "") -> str:
    who = f"<b>{e(subject)}</b>：" if subject else ""
    if problem in PROBLEM:
        return f'<p class="error" role="alert">{who}{e(PROBLEM[problem])}</p>'
    if done in DONE:
        return f'<p class="done" role="status">{who}{e(DONE[done])}</p>'
    return ""


def _password_fields(old: bool) -> str:
    first = (
        f'<label>{bi("原密码", "Current password")}<input name="old" type="password" '
        'autocomplete="current-password" required></label>'
        if old
        else ""
    )
    return (
        first + f'<label>{bi("新密码", "New password")}<input name="new" type="password" '
        'autocomplete="new-password" minlength="8" required></label>'
        f'<label>{bi("再次输入新密码", "New password again")}<input name="repeat" '
        'type="password" autocomplete="new-password" minlength="8" required></label>'
    )


def account_page(
    *,
    county: str,
    user: User,
    csrf: str,
    points: Mapping[str, str],
    done: str,
    problem: str,
    open_alerts: int,
) -> str:
    where = "、".join(points.get(p, p) for p in user.points) or "全部服务点 All points"
    body = (
        f'<div class="titlebar"><h1>{bi("我的账号", "My account")}</h1></div>'
        f'<div class="split even"><section class="panel"><h2>{bi("账号信息", "Account")}</h2>'
        f'<dl class="facts"><dt>{bi("用户名", "User")}</dt><dd class="mono">{e(user.name)}</dd>'
        f"<dt>{bi('角色', 'Role')}</dt><dd>{e(ROLE[user.role])}</dd>"
        f"<dt>{bi('服务点', 'Points')}</dt><dd>{e(where)}</dd></dl></section>"
        f'<section class="panel"><h2>{bi("修改密码", "Change password")}</h2>'
        f"{banner(done, problem)}"
        f'<form class="stack" method="post" action="/dashboard/account/password">'
        f"{csrf_field(csrf)}{_password_fields(old=True)}"
        '<button class="primary" type="submit">修改密码 Change password</button></form>'
        '<p class="hint">修改后，您在其他电脑或浏览器上的登录会自动退出。</p></section></div>'
    )
    return layout(
        title="我的账号",
        county=county,
        user=user,
        active="account",
        body=body,
        csrf=csrf,
        open_alerts=open_alerts,
    )


def accounts_page(
    *,
    county: str,
    user: User,
    csrf: str,
    users: Sequence[Mapping[str, Any]],
    points: Mapping[str, str],
    done: str,
    problem: str,
    subject: str,
    open_alerts: int,
) -> str:
    rows = []
    for u in users:
        name = u["name"]
        base = f"/dashboard/accounts/{quote(name, safe='')}"
        active = u["disabled_at"] is None
        where = "、".join(points.get(p, p) for p in u["points"]) or "全部 All"
        state = (
            '<span class="chip green">启用 Active</span>'
            if active
            else f'<span class="chip grey">已停用 Disabled</span><small>{e(when(u["disabled_at"]))}</small>'
        )
        toggle = ""
        if name != user.name:
            if active:  # asked once more: it signs them out at once, wherever they are
                toggle = (
                    f'<details class="disable"><summary>停用 Disable</summary>'
                    f'<form class="stack" method="post" action="{base}/disable">{csrf_field(csrf)}'
                    f'<label class="check"><input type="checkbox" name="confirm" value="1" required>'
                    f" 停用 {e(name)}：立即退出登录，重新启用前不能登录。"
                    f"Signs {e(name)} out at once; no sign-in until enabled again.</label>"
                    '<button class="danger">确认停用 Disable</button></form></details>'
                )
            else:
                toggle = (f'<form method="post" action="{base}/enable">{csrf_field(csrf)}'
                          '<button class="primary">启用 Enable</button></form>')  # fmt: skip
        reset = (
            f'<details class="reset"{" open" if subject == name and problem else ""}>'
            f"<summary>重置密码 Reset password</summary>"
            f'<form class="stack" method="post" action="{base}/reset">{csrf_field(csrf)}'
            f"{_password_fields(old=False)}"
            '<button class="primary">重置 Reset</button></form></details>'
        )
        you = ' <span class="chip amber">本人 You</span>' if name == user.name else ""
        rows.append(
            f'<tr data-user="{e(name)}" data-active="{"yes" if active else "no"}">'
            f'<td class="mono"><b>{e(name)}</b>{you}</td><td>{e(ROLE.get(u["role"], u["role"]))}</td>'
            f"<td>{e(where)}</td><td>{e(when(u['created_at']))}</td><td>{state}</td>"
            f'<td class="actions">{toggle}{reset}</td></tr>'
        )
    table = grid([("用户名", "User"), ("角色", "Role"), ("服务点", "Points"),
                  ("创建时间", "Created"), ("状态", "State"), ("操作", "Actions")], rows)  # fmt: skip
    body = (
        f'<div class="titlebar"><h1>{bi("账号管理", "Accounts")}</h1>'
        '<span class="muted">新账号用 <code>central users add</code> 创建</span></div>'
        f"{banner(done, problem, subject)}{table}"
    )
    return layout(
        title="账号管理",
        county=county,
        user=user,
        active="accounts",
        body=body,
        csrf=csrf,
        open_alerts=open_alerts,
    )
