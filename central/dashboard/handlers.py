"""The dashboard's aiohttp handlers: check the session, call the hall store in a thread, render.

Anonymous requests to a page are sent to the login page (303); to
``/dashboard/api/…`` they get 401. A user sees only the service points in their
scope: asking for another point is a 403, and rows outside it never load.
Every POST checks the CSRF token tied to the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from central import tables as t
from central.app import CATALOG, CONFIG, STORE
from central.dashboard import (
    SETTINGS,
    account_views,
    diagnostics,
    diagnostics_views,
    lookup_views,
    notice_views,
    remote,
    remote_views,
    security,
    views,
    volume_views,
    volumes,
)
from central.dashboard.builder import BuildFailed, PageBuilder, terminal_views, terminals_body
from central.dashboard.data import (
    HALL_MESSAGES,
    PLACE_MAX,
    SIGN_IN_LOCK,
    SIGN_IN_TRIES,
    HallError,
    HallStore,
    LookupAudit,
    User,
    forget_oldest,
)
from central.dashboard.snapshots import SNAPSHOTS, Snapshots
from central.db import log_failure, reader
from central.decide import calendar_in_use
from central.errors import ApiError
from central.validate import id_number_valid
from kiosk.records import masked_id

log = logging.getLogger("central.dashboard")
COOKIE, PRE_COOKIE = "kiosk_dashboard", "kiosk_dashboard_login"
STATIC = Path(__file__).with_name("static")
SECRET: web.AppKey[bytes] = web.AppKey("dashboard_secret", bytes)
SAVINGS: web.AppKey[dict] = web.AppKey("dashboard_savings", dict)
BUILDER: web.AppKey[PageBuilder] = web.AppKey("dashboard_builder", PageBuilder)
# password checks at once (each ~50 ms of scrypt in a worker thread): the threads the
# terminals' calls use are not all taken by a flood of sign-ins
HASHING: web.AppKey[asyncio.Semaphore] = web.AppKey("dashboard_hashing", asyncio.Semaphore)
MONTH = dt.timedelta(days=30)

Page = Callable[[web.Request, User, str], Awaitable[web.StreamResponse]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _hall(request: web.Request) -> HallStore:
    return HallStore(request.app[STORE].engine)


def _reading(request: web.Request) -> HallStore:
    """For reads only: on SQLite a connection whose transactions never take the write
    lock (``central.db.reader``), so pages do not hold heartbeats' commits back."""
    return HallStore(reader(request.app[STORE].engine))


def _county(request: web.Request) -> str:
    return request.app[CATALOG]["catalog"].county.zh or "本县"


def _points(request: web.Request) -> dict[str, str]:
    return {c: p.name.zh for c, p in request.app[CATALOG]["catalog"].service_points.items()}


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'self'; "
                                 "script-src 'unsafe-inline'; style-src 'self' 'unsafe-inline'"})  # fmt: skip


def _refuse(request: web.Request, user: User, csrf: str, status: int, title: str,
            text: str) -> web.Response:  # fmt: skip
    if request.path.startswith("/dashboard/api/"):
        return web.json_response({"error": title}, status=status)
    return _html(views.message_page(county=_county(request), user=user, csrf=csrf, title=title,
                                    text=text), status)  # fmt: skip


async def _user(request: web.Request) -> tuple[User, security.Session] | None:
    cookie = request.cookies.get(COOKIE, "")
    session = security.read_cookie(request.app[SECRET], cookie, time.time()) if cookie else None
    if session is None:
        return None
    found = await asyncio.to_thread(_reading(request).user, session.user)
    if found is None or found[0].epoch != session.epoch:  # disabled, or the password was reset
        return None
    return found[0], session


def page(name: str) -> Callable[[Page], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """Wrap a handler: a signed-in user who may see ``name``; a valid CSRF token on POST."""

    def wrap(handler: Page):
        async def checked(request: web.Request) -> web.StreamResponse:
            found = await _user(request)
            if found is None:
                if request.path.startswith("/dashboard/api/"):
                    return web.json_response({"error": "sign in first"}, status=401)
                target = quote(request.path_qs, safe="")
                raise web.HTTPSeeOther(f"/dashboard/login?next={target}")
            user, session = found
            csrf = security.csrf_token(request.app[SECRET], session.sid)
            if not user.may(name):
                return _refuse(request, user, csrf, 403, "无权访问 Forbidden",
                               "您的角色不能查看此页面。Your role may not see this page.")  # fmt: skip
            if request.method == "POST":
                form = await request.post()
                if not security.csrf_ok(
                    request.app[SECRET], session.sid, str(form.get("csrf", ""))
                ):
                    return _refuse(request, user, csrf, 403, "请求已失效 Expired form",
                                   "页面已过期，请刷新后重试。Reload the page and try again.")  # fmt: skip
            resp = await handler(request, user, csrf)
            _renew(request, resp, session)
            return resp

        return checked

    return wrap


def _renew(request: web.Request, resp: web.StreamResponse, session: security.Session) -> None:
    """A session in use goes on: past half its time, a page it opens renews its cookie
    (same session, same CSRF token), so a hall's screen left on a page that reloads itself
    stays signed in; one not used for ``session_hours`` still ends."""
    ttl = request.app[SETTINGS].session_hours * 3600
    if session.expires - time.time() <= ttl / 2 and not resp.prepared:
        _set_session(request, resp, session.user, session.epoch, session.sid)


def _chosen_point(request: web.Request, user: User) -> tuple[str, list[str]]:
    """The point filter asked for and the points the user may pick from.

    :raises HallError: 403 a point outside the user's scope.
    """
    everything = list(_points(request))
    visible = everything if user.scope is None else list(user.scope)
    chosen = request.query.get("point", "")
    if chosen and user.scope is not None and chosen not in user.scope:
        raise HallError(403, "hall.forbidden", chosen)
    return chosen, visible


def _scope(user: User, chosen: str) -> tuple[str, ...] | None:
    return (chosen,) if chosen else user.scope


async def _open_alerts(request: web.Request, user: User) -> int:
    return await asyncio.to_thread(_reading(request).count_open_alerts, user.scope)


async def _guarded(request, user, csrf, build):
    try:
        return await build()
    except HallError as err:
        text = err.body()["error"]["message"]
        return _refuse(request, user, csrf, err.status, text["zh"], text["en"])


# -- sign in and out -------------------------------------------------------------


def _safe_next(value: str) -> str:
    # only our own pages: never an absolute or scheme-relative URL (an open redirect)
    ok = value.startswith("/dashboard/") and not value.startswith("//") and "\\" not in value
    return value if ok else "/dashboard/terminals"


def _secure(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a proxy that ended
    TLS and says so. (The header is taken from anyone: it can only make a cookie stricter.)"""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not pre.isascii():  # none yet, or garbled: a new one
        pre = secrets.token_urlsafe(18)
    csrf = security.csrf_token(request.app[SECRET], "login:" + pre)
    nxt = _safe_next(request.query.get("next", "") or "")
    resp = _html(views.login_page(county=_county(request), csrf=csrf, next_url=nxt, error=error),
                 status)  # fmt: skip
    resp.set_cookie(PRE_COOKIE, pre, max_age=3600, httponly=True, samesite="Strict",
                    path="/dashboard", secure=_secure(request))  # fmt: skip
    return resp


async def login_get(request: web.Request) -> web.Response:
    return _login_form(request)


WRONG_SIGN_IN = (f"用户名或密码不正确。连续输错 {SIGN_IN_TRIES} 次，账号将锁定 "
                 f"{round(SIGN_IN_LOCK.total_seconds() / 60)} 分钟。"
                 f"Wrong user name or password. After {SIGN_IN_TRIES} wrong tries an account is "
                 f"locked for {round(SIGN_IN_LOCK.total_seconds() / 60)} minutes.")


async def login_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not security.csrf_ok(
        request.app[SECRET], "login:" + pre, str(form.get("csrf", ""))
    ):
        return _login_form(
            request, "页面已过期，请重新登录。The form expired; please sign in again.", 403
        )
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    # Guessing is held back per account (a lock in the database, which every worker
    # shares), not per address: behind a proxy every sign-in comes from one address
    hall = _hall(request)
    found = await asyncio.to_thread(hall.user, name)
    stored = found[1] if found else security.dummy_hash()
    async with request.app[HASHING]:  # a flood of sign-ins waits here, not in every thread
        # the lock is read right before the password is checked, not before the wait: a
        # burst of guesses sent at once would all have passed it while it was still open
        now = dt.datetime.now(dt.UTC)
        locked = await asyncio.to_thread(hall.locked_for, name, now)
        # checked even when locked: a locked account answers as slowly as any other
        ok = await asyncio.to_thread(security.check_password, password, stored) and locked <= 0
        # a wrong try counted before the next guess gets in to read the lock (counted after
        # the wait, a burst got one guess more past the lock than the two checked at once)
        locked_now = (found is not None and not ok and locked <= 0
                      and await asyncio.to_thread(hall.sign_in_failed, name, now))  # fmt: skip
    if not (found and ok):
        log.info("dashboard sign-in refused for a user name of %d characters", len(name))
        if locked_now:
            log.warning("dashboard account locked for %s after %d wrong passwords",
                        SIGN_IN_LOCK, SIGN_IN_TRIES)  # fmt: skip
        await asyncio.sleep(0.5)  # a guesser waits; a person who mistyped hardly notices
        # one answer for a wrong password, an unknown name and a locked account: a guesser
        # cannot learn which names exist; the person locked out reads the rule and waits
        return _login_form(request, WRONG_SIGN_IN, 401)
    await asyncio.to_thread(hall.signed_in, name)
    resp = _signed_in(request, name, found[0].epoch, _safe_next(str(form.get("next", ""))))
    resp.del_cookie(PRE_COOKIE, path="/dashboard")
    log.info("dashboard sign-in: %s", name)
    raise resp


def _signed_in(request: web.Request, name: str, epoch: int, location: str) -> web.HTTPSeeOther:
    """A redirect to ``location`` that carries a fresh session cookie for ``name``."""
    resp = web.HTTPSeeOther(location)
    _set_session(request, resp, name, epoch)
    return resp


def _set_session(request: web.Request, resp: web.StreamResponse, name: str, epoch: int,
                 sid: str = "") -> None:  # fmt: skip
    """``resp`` sets the session cookie for ``name``, good for ``session_hours`` from now
    (``sid``: the session it renews)."""
    ttl = int(request.app[SETTINGS].session_hours * 3600)
    cookie = security.make_cookie(request.app[SECRET], name, time.time(), ttl, epoch, sid)
    resp.set_cookie(COOKIE, cookie, max_age=ttl, httponly=True, samesite="Strict",
                    path="/dashboard", secure=_secure(request))  # fmt: skip


@page("terminals")
async def logout(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    # every cookie of this user is void from now: a copied one stops working too
    await asyncio.to_thread(_hall(request).end_sessions, user.name)
    resp = web.HTTPSeeOther("/dashboard/login")
    resp.del_cookie(COOKIE, path="/dashboard")
    raise resp


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/dashboard/terminals")


# -- pages ---------------------------------------------------------------------------


# the terminal page when its build failed: it reloads by itself, and that tries again
UNBUILT = ('<section class="message"><h1>终端状态暂时无法显示 Terminal status unavailable</h1>'
           '<p>生成本页时出错，页面会自动刷新重试。The page could not be built just now; it '
           'reloads by itself and tries again.</p></section>')  # fmt: skip


@page("terminals")
async def terminals(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, visible = _chosen_point(request, user)
        app, status = request.app, 200
        # 2 000 rows take a while to read, judge and render: done in the page builder's
        # process (not on this one's GIL), once per scope every few seconds however many
        # managers have the page open
        try:
            body = await app[SNAPSHOTS].get((user.scope, chosen), partial(
                terminals_body, app[CONFIG].url, _scope(user, chosen), _points(request), visible,
                chosen, app[SETTINGS].offline_after, app[CATALOG]["etag"].strip('"'),
                app[SETTINGS].unused_after_hours))  # fmt: skip
        except BuildFailed:  # logged by the builder; not kept, so the next request builds
            body, status = UNBUILT, 503
        return _html(views.terminals_page(
            county=_county(request), user=user, csrf=csrf, body=body,
            refresh=app[SETTINGS].refresh_seconds,
            open_alerts=await _open_alerts(request, user)), status)  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("terminals")
async def terminals_api(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, _ = _chosen_point(request, user)
        now = _now()
        settings, hall = request.app[SETTINGS], _reading(request)

        def judged():  # (in a thread: the calendar is read from its file when it changes)
            return hall.terminal_views(_scope(user, chosen), now, settings.offline_after,
                                       settings.unused_after_hours, calendar_in_use().is_workday)

        found = await asyncio.to_thread(judged)
        return web.json_response([{
            "terminal_id": v.terminal_id, "service_point": v.service_point,
            "severity": v.severity.css, "online": v.online,
            "last_seen": v.last_seen.isoformat() if v.last_seen else None,
            "paper": v.paper, "software_version": v.software_version, "screen": v.screen,
            "devices": [dict(d) for d in v.devices],
            "problems": [{"kind": c.kind, "detail": c.detail} for c in v.conditions],
        } for v in found], dumps=lambda o: json.dumps(o, ensure_ascii=False))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("alerts")
async def alerts(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, visible = _chosen_point(request, user)
        await _sweep(request.app)
        closed = request.query.get("view") == "closed"
        found = await asyncio.to_thread(_reading(request).alerts, _scope(user, chosen), closed,
                                        ALERTS_SHOWN + 1)  # one more: whether any are left out
        more, found = len(found) > ALERTS_SHOWN, found[:ALERTS_SHOWN]
        places = await asyncio.to_thread(_reading(request).places, _scope(user, chosen),
                                         [a["terminal_id"] for a in found])  # fmt: skip
        return _html(views.alerts_page(
            county=_county(request), user=user, csrf=csrf, alerts=found, points=_points(request),
            visible=visible, chosen=chosen, closed=closed, places=places, more=more,
            done="closed" if request.query.get("done") == "closed" and not closed else "",
            open_alerts=await _open_alerts(request, user),
            # the open ones kept current on a hall's screen (a citizen calling staff shows
            # here); the closed ones are history, read at leisure
            refresh=0 if closed else ALERTS_REFRESH))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("alerts")
async def alert_action(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        action = request.match_info["action"]
        try:
            alert_id = int(request.match_info["id"])
        except ValueError:
            raise HallError(404, "hall.not_found") from None
        form = await request.post()
        try:
            await asyncio.to_thread(_hall(request).act_on_alert, alert_id, action, user.name,
                                    user.scope, form.get("confirm") == "1",
                                    str(form.get("note", "")))  # fmt: skip
        except HallError as err:
            if err.key != "hall.unanswered_call":
                raise
            # asked once more, on a page of its own: the list reloads itself every 30 s, and a
            # click meant for one row can land on another's 关闭
            found = await asyncio.to_thread(_reading(request).alerts, user.scope, False, 1, alert_id)
            alert = found[0] if found else None
            if alert is None:  # closed meanwhile
                raise HallError(409, "hall.wrong_state") from None
            return _html(views.confirm_close_page(
                county=_county(request), user=user, csrf=csrf, alert=alert, points=_points(request),
                open_alerts=await _open_alerts(request, user)), 409)  # fmt: skip
        raise web.HTTPSeeOther("/dashboard/alerts?done=closed" if action == "close"
                               else "/dashboard/alerts")  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("ratings")
async def ratings(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    from central.terminal_api import REASONS

    async def build():
        chosen, visible = _chosen_point(request, user)
        hall, scope = _reading(request), _scope(user, chosen)
        dist = await asyncio.to_thread(hall.rating_distribution, scope, _now() - MONTH)
        bad = await asyncio.to_thread(hall.bad_ratings, scope)
        places = await asyncio.to_thread(hall.places, scope, [r["terminal_id"] for r in bad])
        return _html(views.ratings_page(
            county=_county(request), user=user, csrf=csrf, distribution=dist, bad=bad, places=places,
            points=_points(request), visible=visible, chosen=chosen, reasons=REASONS,
            open_alerts=await _open_alerts(request, user)))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("ratings")
async def rating_follow_up(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        form = await request.post()
        try:
            rating_id = int(request.match_info["id"])
        except ValueError:
            raise HallError(404, "hall.not_found") from None
        await asyncio.to_thread(
            _hall(request).follow_up, rating_id, str(form.get("seen", "")), user.name,
            str(form.get("assignee", "")).strip(), str(form.get("note", "")).strip()[:200],
            user.scope)  # fmt: skip
        raise web.HTTPSeeOther("/dashboard/ratings")

    return await _guarded(request, user, csrf, build)


def _savings_rows(catalog) -> list[dict[str, Any]]:
    from kiosk.savings import report

    best: dict[str, Any] = {}
    for row in report(catalog):
        # the fullest path through the questions stands for the life event
        if row.life_event not in best or row.matters > best[row.life_event].matters:
            best[row.life_event] = row
    out = []
    for code, row in best.items():
        event = catalog.life_events[code]
        out.append({"code": code, "name": event.title.zh, "matters": row.matters,
                    "fields_separate": row.fields_separate, "fields_typed": row.fields_typed,
                    "materials_separate": row.materials_separate,
                    "materials_handed": row.materials_handed})  # fmt: skip
    return out


@page("savings")
async def savings(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    cache = request.app[SAVINGS]
    if "rows" not in cache:  # the catalog is fixed for the life of the app
        cache["rows"] = await asyncio.to_thread(_savings_rows, request.app[CATALOG]["catalog"])
    volumes = await asyncio.to_thread(_reading(request).volumes, user.scope, _now() - MONTH)
    rows = [{**r, "submitted": volumes.get(r["code"], 0)} for r in cache["rows"]]
    return _html(views.savings_page(county=_county(request), user=user, csrf=csrf, rows=rows,
                                    open_alerts=await _open_alerts(request, user)))  # fmt: skip


TERMINAL_CHOICES = 300  # more terminals than this in scope: pick a point first


@page("volumes")
async def volumes_view(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, visible = _chosen_point(request, user)
        q, engine, scope = request.query, reader(request.app[STORE].engine), _scope(user, chosen)
        today = _now().astimezone(views.CHINA).date()
        rng, note = volumes.parse_range(
            q.get("from", ""), q.get("to", ""), q.get("unit", ""), today
        )
        ids = await asyncio.to_thread(volumes.terminal_ids, engine, scope)
        terminal = q.get("terminal", "")
        if terminal and terminal not in ids:
            raise HallError(403, "hall.forbidden", terminal)
        report = await asyncio.to_thread(volumes.report, engine, scope, rng, terminal)
        places = await asyncio.to_thread(_reading(request).places, scope, list(report.terminal_points))
        cat = request.app[CATALOG]["catalog"]
        return _html(volume_views.volumes_page(
            county=_county(request), user=user, csrf=csrf, report=report, points=_points(request),
            visible=visible, chosen=chosen, terminal=terminal,
            terminals=ids if len(ids) <= TERMINAL_CHOICES else ([terminal] if terminal else []),
            life_events={c: ev.title.zh for c, ev in cat.life_events.items()},
            matters={c: m.name.zh for c, m in cat.matters.items()}, note=note, places=places,
            open_alerts=await _open_alerts(request, user)))  # fmt: skip

    return await _guarded(request, user, csrf, build)


# -- accounts -----------------------------------------------------------------------------


@page("account")
async def account(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    q = request.query
    return _html(account_views.account_page(
        county=_county(request), user=user, csrf=csrf, points=_points(request),
        done=q.get("done", ""), problem=q.get("problem", ""),
        open_alerts=await _open_alerts(request, user)))  # fmt: skip


def _new_password(form) -> tuple[str, str]:
    """The new password typed twice, or a problem key ("repeat", "short")."""
    new, repeat = str(form.get("new", "")), str(form.get("repeat", ""))
    if new != repeat:
        return "", "repeat"
    if len(new) < 8:
        return "", "short"
    return new, ""


@page("account")
async def change_password(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    form = await request.post()
    hall = _hall(request)
    found = await asyncio.to_thread(hall.user, user.name)
    old = str(form.get("old", ""))
    if found is None or not await asyncio.to_thread(security.check_password, old, found[1]):
        log.info("dashboard password change refused for %s: wrong current password", user.name)
        await asyncio.sleep(0.5)
        raise web.HTTPSeeOther("/dashboard/account?problem=old")
    new, problem = _new_password(form)
    if not problem and new == old:
        problem = "same"
    if problem:
        raise web.HTTPSeeOther(f"/dashboard/account?problem={problem}")
    try:
        epoch = await asyncio.to_thread(hall.set_password, user.name, new)
    except ValueError as err:
        raise web.HTTPSeeOther(f"/dashboard/account?problem={err}") from None
    log.info("dashboard password changed by %s", user.name)
    # this session goes on with the new epoch; every other one of this user's ends
    raise _signed_in(request, user.name, epoch, "/dashboard/account?done=password")


LOOKUP_DAYS = 7  # the lookups page's table of terminals covers this many days
ALERTS_REFRESH = 30  # seconds: the open alerts page reloads itself
ALERTS_SHOWN = 200  # rows of the alerts page (the first to handle, or the latest closed)


async def _lookups_page(request: web.Request, user: User, csrf: str, status: int = 200,
                        **found) -> web.Response:  # fmt: skip
    audit = LookupAudit(reader(request.app[STORE].engine))
    since = _now() - dt.timedelta(days=LOOKUP_DAYS)
    terminals = await asyncio.to_thread(audit.by_terminal, since, user.scope)
    return _html(lookup_views.lookups_page(
        county=_county(request), user=user, csrf=csrf, points=_points(request),
        terminals=terminals, days=LOOKUP_DAYS, kept_days=request.app[SETTINGS].lookups_kept_days,
        open_alerts=await _open_alerts(request, user), **found), status)  # fmt: skip


@page("lookups")
async def lookups(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    return await _lookups_page(request, user, csrf)


@page("lookups")
async def lookups_export(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    """The per-terminal table for ``?days=N`` (up to the keeping time) as a spreadsheet's CSV,
    for an audit report: counts and codes only, no citizen's number or hash."""
    kept = request.app[SETTINGS].lookups_kept_days
    raw = request.query.get("days", "30")
    # isascii: "²" is a digit to str.isdigit, and int() of it raises
    days = (min(int(raw), kept) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 5
            and int(raw) > 0 else 30)  # fmt: skip
    until = _now()
    audit = LookupAudit(reader(request.app[STORE].engine))
    rows = await asyncio.to_thread(audit.by_terminal, until - dt.timedelta(days=days),
                                   user.scope, limit=100_000)  # fmt: skip
    text = lookup_views.lookups_csv(rows, _points(request), days, until)
    log.info("lookups audit: %s exported %d days (%d terminals)", user.name, days, len(rows))
    name = f"lookups-{until.astimezone(views.CHINA):%Y%m%d}-{days}d.csv"
    return web.Response(body=text.encode("utf-8-sig"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})  # fmt: skip


@page("lookups")
async def lookups_of_citizen(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    """One citizen's lookups, by the ID number typed (a POST: the number is in no URL, no
    access log and no browser history; it is not logged here either)."""
    number = str((await request.post()).get("id_number", "")).strip().upper()
    if not id_number_valid(number):
        return await _lookups_page(request, user, csrf, 422,
                                   problem="身份证号码不正确（格式或校验位）。"
                                           "That is not a valid ID number (format or check digit).")  # fmt: skip
    blinds = request.app[STORE].box.blinds(number)
    found = await asyncio.to_thread(LookupAudit(reader(request.app[STORE].engine)).of_citizen,
                                    blinds)  # fmt: skip
    # the search itself joins the trail: whoever looks this citizen up next sees it
    await asyncio.to_thread(LookupAudit(request.app[STORE].engine).note_search, user.name,
                            blinds[0])  # fmt: skip
    log.info("lookups audit: %s looked up one citizen's lookups (%d found)", user.name, len(found))
    return await _lookups_page(request, user, csrf, citizen=masked_id(number), found=found)


@page("accounts")
async def accounts(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    q = request.query
    found = await asyncio.to_thread(_hall(request).users)
    return _html(account_views.accounts_page(
        county=_county(request), user=user, csrf=csrf, users=found, points=_points(request),
        done=q.get("done", ""), problem=q.get("problem", ""), subject=q.get("user", ""),
        open_alerts=await _open_alerts(request, user)))  # fmt: skip


@page("accounts")
async def account_action(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        name, action = request.match_info["name"], request.match_info["action"]
        hall = _hall(request)
        back = f"/dashboard/accounts?user={quote(name, safe='')}"
        if action in ("disable", "enable"):
            if action == "disable" and (await request.post()).get("confirm") != "1":
                raise web.HTTPSeeOther(f"{back}&problem=confirm")  # (the form asks it)
            await asyncio.to_thread(hall.set_disabled, name, action == "disable", user.name)
            log.info("dashboard account %s %sd by %s", name, action, user.name)
            raise web.HTTPSeeOther(f"{back}&done={action}d")
        if action != "reset":
            raise HallError(404, "hall.not_found")
        new, problem = _new_password(await request.post())
        if problem:
            raise web.HTTPSeeOther(f"{back}&problem={problem}")
        try:
            epoch = await asyncio.to_thread(hall.set_password, name, new)
        except ValueError as err:
            raise web.HTTPSeeOther(f"{back}&problem={err}") from None
        log.info("dashboard password of %s reset by %s", name, user.name)
        if name == user.name:  # one's own reset: stay signed in here
            raise _signed_in(request, name, epoch, f"{back}&done=reset")
        raise web.HTTPSeeOther(f"{back}&done=reset")

    return await _guarded(request, user, csrf, build)


# -- diagnostics bundles --------------------------------------------------------------------


@page("diagnostics")
async def diagnostics_view(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    engine = request.app[STORE].engine
    found = await asyncio.to_thread(diagnostics.bundles, engine, user.scope)
    terms = await asyncio.to_thread(diagnostics.terminals_in_scope, engine, user.scope)
    return _html(diagnostics_views.diagnostics_page(
        county=_county(request), user=user, csrf=csrf, bundles=found, terminals=terms,
        points=_points(request), chosen=request.query.get("terminal", ""),
        asked=request.query.get("asked", ""), heartbeat_seconds=30,
        open_alerts=await _open_alerts(request, user)))  # fmt: skip


@page("diagnostics")
async def diagnostics_request(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        terminal = str((await request.post()).get("terminal", ""))
        await asyncio.to_thread(diagnostics.request_bundle, request.app[STORE].engine, terminal,
                                user.name, user.scope, _now())  # fmt: skip
        log.info("diagnostics bundle of %s requested by %s", terminal, user.name)
        raise web.HTTPSeeOther(f"/dashboard/diagnostics?asked={quote(terminal, safe='')}")

    return await _guarded(request, user, csrf, build)


@page("diagnostics")
async def diagnostics_download(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    try:
        bundle_id = int(request.match_info["id"])
        meta, data = await asyncio.to_thread(diagnostics.content, request.app[STORE].engine,
                                             bundle_id, user.scope)  # fmt: skip
    except (ValueError, ApiError):
        return _refuse(
            request, user, csrf, 404, "没有找到 Not found", "没有这个诊断包。No such bundle."
        )
    stamp = meta["uploaded_at"].astimezone(views.CHINA).strftime("%Y%m%d-%H%M%S")
    name = f"diagnostics-{meta['terminal_id']}-{stamp}.zip"
    log.info("diagnostics bundle %d downloaded by %s", bundle_id, user.name)
    return web.Response(body=data, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})  # fmt: skip


# -- remote configuration -------------------------------------------------------------------


async def _target(request: web.Request, user: User, target: str) -> tuple[str, str, str]:
    """(scope, id, the point it belongs to) of a "point:CODE" or "terminal:ID" in the user's scope.

    :raises HallError: 403 outside the user's scope; 404 unknown.
    """
    scope, _, ident = target.partition(":")
    if scope == "point":
        if ident not in _points(request):
            raise HallError(404, "hall.not_found")
        if user.scope is not None and ident not in user.scope:
            raise HallError(403, "hall.forbidden", ident)
        return scope, ident, ident
    if scope == "terminal":
        terms = dict(await asyncio.to_thread(diagnostics.terminals_in_scope,
                                             request.app[STORE].engine, user.scope))  # fmt: skip
        if ident not in terms:
            raise HallError(403, "hall.forbidden", ident)
        return scope, ident, terms[ident]
    raise HallError(404, "hall.not_found")


def _seen(form) -> int | None:
    """The settings version a form was made from (None: a form without one)."""
    raw = str(form.get("version", ""))
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


async def _config_page(request, user, csrf, chosen: str, problems=None, form=None, saved="",
                       changed: remote.Changed | None = None, revoke_error: str = "",
                       place_error: str = "", typed_place: str | None = None):  # fmt: skip
    engine = request.app[STORE].engine
    everything = list(_points(request))
    visible = everything if user.scope is None else list(user.scope)
    terms = await asyncio.to_thread(diagnostics.terminals_in_scope, engine, user.scope)
    configs = await asyncio.to_thread(remote.rows, engine)
    in_scope = {p for p in visible} | {tid for tid, _ in terms}
    configs = sorted((c for c in configs if c["scope_id"] in in_scope),
                     key=lambda c: (c["scope"] != "point", c["scope_id"]))  # fmt: skip
    by_key = {(c["scope"], c["scope_id"]): c for c in configs}
    own, inherited, version = {}, {}, 0
    if chosen:
        scope, ident, point = await _target(request, user, chosen)
        own = dict(by_key.get((scope, ident), {}).get("settings", {}))
        version = by_key.get((scope, ident), {}).get("version", 0)
        if scope == "terminal":
            inherited = dict(by_key.get(("point", point), {}).get("settings", {}))
    if form is not None:  # a refused form keeps what was typed, and the version it was made from
        own = {k: v for k, v in form.items()
               if k not in ("csrf", "target", "version") and v != ""}  # fmt: skip
        version = _seen(form) if _seen(form) is not None else version
        if "notices" in own:
            own["notices"] = str(own["notices"]).splitlines()
        if "elderly_default" in own:
            own["elderly_default"] = own["elderly_default"] == "on"
    status = await asyncio.to_thread(remote.push_status, engine, user.scope)
    # every terminal's place: the picker and the table name the machines as the hall does
    places = await asyncio.to_thread(_reading(request).places, user.scope)
    place = typed_place if typed_place is not None else ""
    if typed_place is None and chosen.startswith("terminal:"):
        place = places.get(chosen.partition(":")[2], "")
    return _html(remote_views.config_page(
        county=_county(request), user=user, csrf=csrf, points=_points(request), visible=visible,
        terminals=terms, chosen=chosen, own=own, inherited=inherited, configs=configs,
        status=status, problems=problems or {}, saved=saved, version=version, changed=changed,
        revoked=request.query.get("revoked", "")[:64], revoke_error=revoke_error,
        place=place, place_error=place_error, placed=request.query.get("placed") == "1",
        places=places, open_alerts=await _open_alerts(request, user)),
        409 if changed else 422 if problems or revoke_error or place_error else 200)  # fmt: skip


@page("config")
async def config_view(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        return await _config_page(request, user, csrf, request.query.get("target", ""),
                                  saved=request.query.get("saved", ""))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("config")
async def config_save(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        form = await request.post()
        target = str(form.get("target", ""))
        scope, ident, _ = await _target(request, user, target)
        settings, problems = remote.parse_form({k: str(v) for k, v in form.items()})
        if problems:
            return await _config_page(request, user, csrf, target, problems,
                                      {k: str(v) for k, v in form.items()})  # fmt: skip
        try:
            version = await asyncio.to_thread(remote.save, request.app[STORE].engine, scope,
                                              ident, settings, user.name, _now(), _seen(form))  # fmt: skip
        except remote.Changed as changed:  # the form is shown again as the settings are now
            return await _config_page(request, user, csrf, target, changed=changed)
        request.app[remote.PUSHES].invalidate()
        request.app[SNAPSHOTS].invalidate()
        log.info("remote configuration v%d for %s %s saved by %s", version, scope, ident, user.name)
        raise web.HTTPSeeOther(f"/dashboard/config?target={quote(target, safe='')}&saved={version}")

    return await _guarded(request, user, csrf, build)


@page("config")
async def terminal_revoke(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    """A technician or administrator revokes a terminal id in their scope (a re-enrolled,
    removed or lost kiosk), having typed the id again to confirm."""

    async def build():
        form = await request.post()
        terminal_id = str(form.get("terminal", ""))[:64]
        target = f"terminal:{terminal_id}"
        await _target(request, user, target)  # 404 unknown, 403 another hall's
        if str(form.get("confirm", "")).strip().upper() != terminal_id.upper():
            return await _config_page(request, user, csrf, target, revoke_error=(
                "输入的终端编号不一致，未停用。The id typed does not match: nothing was revoked."))  # fmt: skip
        await asyncio.to_thread(request.app[STORE].revoke, terminal_id)
        request.app[remote.PUSHES].invalidate()
        request.app[SNAPSHOTS].invalidate()
        log.info("terminal %s revoked by %s on the dashboard", terminal_id, user.name)
        raise web.HTTPSeeOther(f"/dashboard/config?revoked={quote(terminal_id, safe='')}")

    return await _guarded(request, user, csrf, build)


@page("config")
async def terminal_place(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    """A technician or administrator names where a terminal in their scope stands in its
    hall ("东侧入口 1 号机"): the dashboard shows it beside the terminal's id."""

    async def build():
        form = await request.post()
        terminal_id = str(form.get("terminal", ""))[:64]
        target = f"terminal:{terminal_id}"
        await _target(request, user, target)  # 404 unknown, 403 another hall's
        typed = str(form.get("place", ""))
        try:
            # kept, and pushed: the terminal's technician screen names it from its next beat
            await asyncio.to_thread(remote.save_place, request.app[STORE].engine, terminal_id,
                                    typed, user.name, _now())  # fmt: skip
        except HallError as err:
            zh, en = HALL_MESSAGES[err.key]
            return await _config_page(request, user, csrf, target, place_error=f"{zh} {en}",
                                      typed_place=typed[:PLACE_MAX * 2])  # fmt: skip
        request.app[remote.PUSHES].invalidate()
        request.app[SNAPSHOTS].invalidate()
        log.info("terminal %s: its place set by %s on the dashboard", terminal_id, user.name)
        raise web.HTTPSeeOther(f"/dashboard/config?target={quote(target, safe='')}&placed=1")

    return await _guarded(request, user, csrf, build)


# -- a hall's notices (its manager's) ---------------------------------------------------------


async def _notices_page(request, user, csrf, problems=None, typed=None, saved="", status=200,
                        seen=None, chosen=""):  # fmt: skip
    engine = request.app[STORE].engine
    visible = list(_points(request)) if user.scope is None else list(user.scope)
    rows = await asyncio.to_thread(remote.rows, engine)
    current = {r["scope_id"]: r for r in rows if r["scope"] == "point"}
    own = {r["scope_id"] for r in rows if r["scope"] == "terminal" and "notices" in r["settings"]}
    counts: dict[str, dict[str, int]] = {}
    for s in await asyncio.to_thread(remote.push_status, engine, user.scope):
        c = counts.setdefault(s["service_point"], {"terminals": 0, "applied": 0, "own": 0})
        c["terminals"] += 1
        c["applied"] += int(s["pushed"] == 0 or s["acknowledged"] == s["pushed"])
        c["own"] += int(s["terminal_id"] in own)
    return _html(notice_views.notices_page(
        county=_county(request), user=user, csrf=csrf, points=_points(request), visible=visible,
        current=current, status=counts, problems=problems or {}, typed=typed or {}, saved=saved,
        seen=seen or {}, chosen=chosen, open_alerts=await _open_alerts(request, user)), status)  # fmt: skip


@page("notices")
async def notices_view(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, _ = _chosen_point(request, user)  # (403 for another hall's)
        return await _notices_page(request, user, csrf, saved=request.query.get("saved", ""),
                                   chosen=chosen)  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("notices")
async def notices_save(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        form = await request.post()
        point, text = str(form.get("point", "")), str(form.get("notices", ""))
        await _target(request, user, f"point:{point}")  # 404 unknown, 403 another hall's
        settings, problems = remote.parse_form({"notices": text})
        if problems:
            return await _notices_page(
                request, user, csrf, {point: views.e(f"公告过多或过长（{problems['notices']} 字），未保存。"
                                             f"Too many or too long ({problems['notices']}); not saved.")},
                {point: text}, status=422, seen={point: _seen(form)})  # fmt: skip
        try:
            version = await asyncio.to_thread(remote.save_notices, request.app[STORE].engine,
                                              point, settings.get("notices", []), user.name,
                                              _now(), _seen(form))  # fmt: skip
        except remote.Changed as changed:  # shown again as they are now, with who changed them
            return await _notices_page(request, user, csrf, {point: remote_views.changed_note(
                changed)}, status=409)  # fmt: skip
        request.app[remote.PUSHES].invalidate()
        request.app[SNAPSHOTS].invalidate()
        log.info("notices of %s saved by %s (v%d)", point, user.name, version)
        raise web.HTTPSeeOther(f"/dashboard/notices?saved={quote(point, safe='')}#point-{quote(point, safe='')}")

    return await _guarded(request, user, csrf, build)


async def stylesheet(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "dashboard.css", headers={"Cache-Control": "max-age=300"})


# -- assembly ---------------------------------------------------------------------------


async def _forget_old_rows(app: web.Application, now: dt.datetime) -> None:
    """The lookups audit trail and the heartbeats' history past their keeping time, a batch
    of each a sweep (normally none)."""
    settings = app[SETTINGS]
    for table, days in ((t.personal_lookups, settings.lookups_kept_days),
                        (t.heartbeats, settings.heartbeats_kept_days)):  # fmt: skip
        before = now - dt.timedelta(days=days)
        gone = await asyncio.to_thread(forget_oldest, app[STORE].engine, table, before,
                                       reader(app[STORE].engine))  # fmt: skip
        if gone:
            log.info("forgot %d rows of %s older than %d days", gone, table.name, days)


async def _sweep(app: web.Application) -> None:
    """Open and clear alerts. Judging 2 000 terminals is 100 ms and more of Python: done in
    the page builder's process (in a thread here it held the GIL the heartbeats need, and
    every 10 s their p99 went past half a second); only the writing is done here."""
    now, offline_after = _now(), app[SETTINGS].offline_after
    try:
        found = await app[BUILDER].run(partial(terminal_views, app[CONFIG].url, now, offline_after))
    except BuildFailed:  # logged by the builder: judged here this time rather than not at all
        found = None
    await asyncio.to_thread(HallStore(app[STORE].engine).sweep, now, offline_after, found)


async def _sweeper(app: web.Application) -> None:
    every, hall = app[SETTINGS].sweep_every, HallStore(app[STORE].engine)
    while True:
        await asyncio.sleep(every)
        try:  # one worker of a fleet a period (its page builder judges, it writes, it prunes)
            if not await asyncio.to_thread(hall.take_turn, "sweep", every * 0.8, _now()):
                continue
        except Exception as err:
            log_failure(log, "alert sweep failed", err)
            continue
        try:
            await _sweep(app)
        except Exception as err:  # a side effect: log it and sweep again next time
            log_failure(log, "alert sweep failed", err)
        try:  # here only, not when a page sweeps first: a page never waits for it
            await _forget_old_rows(app, _now())
        except Exception as err:
            log_failure(log, "forgetting old rows failed", err)


async def _context(app: web.Application):
    app[SECRET] = await asyncio.to_thread(security.load_secret, app[CONFIG].data_dir)
    app[HASHING] = asyncio.Semaphore(2)
    app[remote.PUSHES] = remote.Pushes(app[STORE].engine)  # heartbeat replies read it
    # its process starts with the first terminal page or alert sweep
    builder = app[BUILDER] = PageBuilder(app[CONFIG].url)
    app[SNAPSHOTS] = Snapshots(app[SETTINGS].snapshot_ttl, run=builder.run)  # settings are final
    task = asyncio.create_task(_sweeper(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await builder.close()


def add_routes(app: web.Application) -> None:
    app[SAVINGS] = {}
    app.cleanup_ctx.append(_context)  # after the database context make_app added first
    r = app.router
    r.add_get("/dashboard", root)
    r.add_get("/dashboard/", root)
    r.add_get("/dashboard/login", login_get)
    r.add_post("/dashboard/login", login_post)
    r.add_post("/dashboard/logout", logout)
    r.add_get("/dashboard/terminals", terminals)
    r.add_get("/dashboard/alerts", alerts)
    r.add_post("/dashboard/alerts/{id}/{action}", alert_action)
    r.add_get("/dashboard/ratings", ratings)
    r.add_post("/dashboard/ratings/{id}/follow-up", rating_follow_up)
    r.add_get("/dashboard/savings", savings)
    r.add_get("/dashboard/volumes", volumes_view)
    r.add_get("/dashboard/diagnostics", diagnostics_view)
    r.add_post("/dashboard/diagnostics", diagnostics_request)
    r.add_get("/dashboard/diagnostics/{id}.zip", diagnostics_download)
    r.add_get("/dashboard/config", config_view)
    r.add_post("/dashboard/config", config_save)
    r.add_post("/dashboard/terminals/revoke", terminal_revoke)
    r.add_post("/dashboard/terminals/place", terminal_place)
    r.add_get("/dashboard/account", account)
    r.add_post("/dashboard/account/password", change_password)
    r.add_get("/dashboard/accounts", accounts)
    r.add_get("/dashboard/lookups", lookups)
    r.add_get("/dashboard/notices", notices_view)
    r.add_post("/dashboard/notices", notices_save)
    r.add_post("/dashboard/lookups", lookups_of_citizen)
    r.add_get("/dashboard/lookups.csv", lookups_export)
    r.add_post("/dashboard/accounts/{name}/{action}", account_action)
    r.add_get("/dashboard/api/terminals", terminals_api)
    r.add_get("/dashboard/static/dashboard.css", stylesheet)
