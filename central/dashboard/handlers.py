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
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from central.app import CATALOG, CONFIG, STORE
from central.dashboard import SETTINGS, security, views
from central.dashboard.data import HallError, HallStore, User

log = logging.getLogger("central.dashboard")
COOKIE, PRE_COOKIE = "kiosk_dashboard", "kiosk_dashboard_login"
STATIC = Path(__file__).with_name("static")
SECRET: web.AppKey[bytes] = web.AppKey("dashboard_secret", bytes)
SAVINGS: web.AppKey[dict] = web.AppKey("dashboard_savings", dict)
MONTH = dt.timedelta(days=30)

Page = Callable[[web.Request, User, str], Awaitable[web.StreamResponse]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _hall(request: web.Request) -> HallStore:
    return HallStore(request.app[STORE].engine)


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
    found = await asyncio.to_thread(_hall(request).user, session.user)
    return (found[0], session) if found else None


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
            return await handler(request, user, csrf)

        return checked

    return wrap


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
    return await asyncio.to_thread(_hall(request).count_open_alerts, user.scope)


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


def _login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(18)
    csrf = security.csrf_token(request.app[SECRET], "login:" + pre)
    nxt = _safe_next(request.query.get("next", "") or "")
    resp = _html(views.login_page(county=_county(request), csrf=csrf, next_url=nxt, error=error),
                 status)  # fmt: skip
    resp.set_cookie(PRE_COOKIE, pre, max_age=3600, httponly=True, samesite="Strict",
                    path="/dashboard", secure=request.secure)  # fmt: skip
    return resp


async def login_get(request: web.Request) -> web.Response:
    return _login_form(request)


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
    found = await asyncio.to_thread(_hall(request).user, name)
    stored = found[1] if found else security.dummy_hash()
    ok = await asyncio.to_thread(security.check_password, password, stored)
    if not (found and ok):
        log.info("dashboard sign-in refused for a user name of %d characters", len(name))
        await asyncio.sleep(0.5)  # a guesser waits; a person who mistyped hardly notices
        return _login_form(request, "用户名或密码不正确。Wrong user name or password.", 401)
    hours = request.app[SETTINGS].session_hours
    cookie = security.make_cookie(request.app[SECRET], name, time.time(), int(hours * 3600))
    resp = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    resp.set_cookie(COOKIE, cookie, max_age=int(hours * 3600), httponly=True, samesite="Strict",
                    path="/dashboard", secure=request.secure)  # fmt: skip
    resp.del_cookie(PRE_COOKIE, path="/dashboard")
    log.info("dashboard sign-in: %s", name)
    raise resp


@page("terminals")
async def logout(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    resp = web.HTTPSeeOther("/dashboard/login")
    resp.del_cookie(COOKIE, path="/dashboard")
    raise resp


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/dashboard/terminals")


# -- pages ---------------------------------------------------------------------------


@page("terminals")
async def terminals(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, visible = _chosen_point(request, user)
        s, now = request.app[SETTINGS], _now()
        views_ = await asyncio.to_thread(
            _hall(request).terminal_views, _scope(user, chosen), now, s.offline_after
        )
        return _html(views.terminals_page(
            county=_county(request), user=user, csrf=csrf, views=views_, points=_points(request),
            visible=visible, chosen=chosen, now=now, offline_after=s.offline_after,
            refresh=s.refresh_seconds, open_alerts=await _open_alerts(request, user)))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("terminals")
async def terminals_api(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        chosen, _ = _chosen_point(request, user)
        now = _now()
        found = await asyncio.to_thread(_hall(request).terminal_views, _scope(user, chosen), now,
                                        request.app[SETTINGS].offline_after)  # fmt: skip
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
        hall = _hall(request)
        await asyncio.to_thread(hall.sweep, _now(), request.app[SETTINGS].offline_after)
        closed = request.query.get("view") == "closed"
        found = await asyncio.to_thread(hall.alerts, _scope(user, chosen), closed)
        return _html(views.alerts_page(
            county=_county(request), user=user, csrf=csrf, alerts=found, points=_points(request),
            visible=visible, chosen=chosen, closed=closed,
            open_alerts=await _open_alerts(request, user)))  # fmt: skip

    return await _guarded(request, user, csrf, build)


@page("alerts")
async def alert_action(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    async def build():
        action = request.match_info["action"]
        try:
            alert_id = int(request.match_info["id"])
        except ValueError:
            raise HallError(404, "hall.not_found") from None
        await asyncio.to_thread(
            _hall(request).act_on_alert, alert_id, action, user.name, user.scope
        )
        raise web.HTTPSeeOther("/dashboard/alerts")

    return await _guarded(request, user, csrf, build)


@page("ratings")
async def ratings(request: web.Request, user: User, csrf: str) -> web.StreamResponse:
    from central.terminal_api import REASONS

    async def build():
        chosen, visible = _chosen_point(request, user)
        hall, scope = _hall(request), _scope(user, chosen)
        dist = await asyncio.to_thread(hall.rating_distribution, scope, _now() - MONTH)
        bad = await asyncio.to_thread(hall.bad_ratings, scope)
        return _html(views.ratings_page(
            county=_county(request), user=user, csrf=csrf, distribution=dist, bad=bad,
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
    volumes = await asyncio.to_thread(_hall(request).volumes, user.scope, _now() - MONTH)
    rows = [{**r, "submitted": volumes.get(r["code"], 0)} for r in cache["rows"]]
    return _html(views.savings_page(county=_county(request), user=user, csrf=csrf, rows=rows,
                                    open_alerts=await _open_alerts(request, user)))  # fmt: skip


async def stylesheet(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "dashboard.css", headers={"Cache-Control": "max-age=300"})


# -- assembly ---------------------------------------------------------------------------


async def _sweeper(app: web.Application) -> None:
    hall = HallStore(app[STORE].engine)
    while True:
        s = app[SETTINGS]
        await asyncio.sleep(s.sweep_every)
        try:
            await asyncio.to_thread(hall.sweep, _now(), s.offline_after)
        except Exception:  # a side effect: log it and sweep again next time
            log.exception("alert sweep failed")


async def _context(app: web.Application):
    app[SECRET] = await asyncio.to_thread(security.load_secret, app[CONFIG].data_dir)
    task = asyncio.create_task(_sweeper(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
    r.add_get("/dashboard/api/terminals", terminals_api)
    r.add_get("/dashboard/static/dashboard.css", stylesheet)
