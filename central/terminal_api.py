"""What a terminal tells the hall: ratings (好差评) and help requests ("call staff").

``setup(app)`` adds the routes to an app built by ``central.app.make_app``;
both are signed like heartbeats. Neither carries personal data: a rating is
stars, reason codes from a fixed list and an optional acceptance number or
submission key; a help request is the terminal and the screen it was on.
Unknown fields are refused, so nothing else slips in.

- ``POST /api/v1/ratings``: ``{"stars": 1..5, "reasons": [code…], "reference": "",
  "key": ""}``; a bad rating (1–2 stars) starts a follow-up.
  ``key`` (client-chosen) makes a retried rating count once. A citizen who
  gives no reason is still followed up: the rating is kept, not refused.
- ``POST /api/v1/help-requests``: ``{"screen": "apply.form"}``; the same call
  from the same screen within two minutes is the same request (a citizen
  pressing twice calls one person).
- ``POST /api/v1/help-requests/over``: ``{"screen": …}``: what the terminal called staff for
  from that screen is over by itself (a card left in a reader has been taken): its open
  alert is marked cleared, still for a person to close;
- ``POST /api/v1/events``: ``{"events": [{"key", "kind": "session"|"query", "at", …}]}``:
  visits and queries the terminal finished, for the volumes page; codes and counts only
  (see central/dashboard/volumes.py); a key sent again is stored once.
- ``POST /api/v1/diagnostics[?request=ID]`` (signed, a zip up to 8 MB as the body): a
  diagnostics bundle, scanned for personal data (refused with 422 if any is found).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

from aiohttp import web

from central.app import API, CONFIG, SIGNED, STORE, _body, _count, _json, _object, _text, access
from central.auth import TERMINAL, terminal_of
from central.citizen_api import SIGNED_LARGE
from central.dashboard import diagnostics, volumes
from central.dashboard.data import HallError, HallStore
from central.errors import ApiError
from kiosk.diagnostics import MAX_BUNDLE

log = logging.getLogger("central.terminal_api")

# reason code → (zh, en); the kiosk's rating screen (screens/rate.py) offers these
REASONS: dict[str, tuple[str, str]] = {
    "slow": ("等待时间长", "Long wait"),
    "unclear": ("提示看不懂", "Unclear instructions"),
    "device": ("设备不好用", "A device did not work"),
    "materials": ("材料要求太多", "Too many materials asked"),
    "staff": ("没有人帮忙", "Nobody helped"),
    "other": ("其他", "Other"),
}
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:-]{0,128}$")


def _only(body: dict, *allowed: str) -> None:
    for name in body:
        if name not in allowed:
            raise ApiError(400, "request.unknown_field", str(name)[:64])


def _terminal_id(request: web.Request, body: dict) -> str:
    # signatures off (a desk demo) means the body names the terminal
    return request.get(TERMINAL) or _text(body, "terminal_id", 64)


def _hall(request: web.Request) -> HallStore:
    return HallStore(request.app[STORE].engine)


@access(SIGNED)
async def rate(request: web.Request) -> web.Response:
    body = _object(await _body(request), "stars")
    _only(body, "stars", "reasons", "reference", "key", "terminal_id")
    stars = body["stars"]
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ApiError(400, "request.wrong_type", "stars")
    reasons = body.get("reasons", [])
    if (
        not isinstance(reasons, list)
        or len(reasons) > len(REASONS)
        or not all(isinstance(r, str) for r in reasons)
    ):
        raise ApiError(400, "request.wrong_type", "reasons")
    for r in reasons:
        if r not in REASONS:
            raise HallError(422, "hall.unknown_reason", r[:32])
    # the same reason twice is one; a bad rating without a reason is still followed up
    reasons = list(dict.fromkeys(reasons))
    reference, key = _text(body, "reference", 128), _text(body, "key", 64)
    if not REFERENCE_RE.match(reference):
        raise ApiError(400, "request.wrong_type", "reference")
    if not KEY_RE.match(key):
        raise ApiError(400, "request.wrong_type", "key")
    rating_id, new = await asyncio.to_thread(
        _hall(request).add_rating, _terminal_id(request, body), key, stars, reasons, reference
    )
    return _json({"id": rating_id, "follow_up": "new" if stars <= 2 else "none"},
                 201 if new else 200)  # fmt: skip


@access(SIGNED)
async def call_staff(request: web.Request) -> web.Response:
    body = _object(await _body(request), "screen")
    _only(body, "screen", "terminal_id")
    screen = _text(body, "screen", 64)
    if not screen.strip():
        raise ApiError(400, "request.missing_field", "screen")
    help_id, new = await asyncio.to_thread(
        _hall(request).add_help_request, _terminal_id(request, body), screen
    )
    return _json({"id": help_id, "screen": screen}, 201 if new else 200)


@access(SIGNED)
async def help_over(request: web.Request) -> web.Response:
    """What a terminal called staff for is over by itself (a card left in a reader, taken):
    its alert shows so, and waits for a person to close it."""
    body = _object(await _body(request), "screen")
    _only(body, "screen", "terminal_id")
    screen = _text(body, "screen", 64)
    cleared = await asyncio.to_thread(_hall(request).help_over, _terminal_id(request, body),
                                      screen)  # fmt: skip
    return _json({"cleared": cleared})


@access(SIGNED)
async def events(request: web.Request) -> web.Response:
    """Sessions and queries a terminal finished (central/dashboard/volumes.py checks them)."""
    now = dt.datetime.now(dt.UTC)
    body = await _body(request)
    found = volumes.parse_events(body, now)
    terminal_id = _terminal_id(request, body)
    new = await asyncio.to_thread(
        volumes.add_events, request.app[STORE].engine, terminal_id, found, now
    )
    return _json({"received": len(found), "stored": new})


@access(SIGNED_LARGE)
async def upload_diagnostics(request: web.Request) -> web.Response:
    """A diagnostics zip (body as it is), answering ``?request=ID`` or unasked."""
    cfg = request.app[CONFIG]
    if (request.content_length or 0) > MAX_BUNDLE:
        raise ApiError(413, "request.too_large")
    request = request.clone(client_max_size=MAX_BUNDLE)
    if cfg.require_signatures:
        request[TERMINAL] = await terminal_of(request, cfg.clock_skew)
    asked = request.query.get("request", "")
    if asked and not (asked.isascii() and asked.isdigit()):  # "²".isdigit(): int() fails
        raise ApiError(400, "request.wrong_type", "request")
    terminal_id = request.get(TERMINAL) or request.query.get("terminal_id", "")[:64]
    content = await request.read()
    try:
        await asyncio.to_thread(diagnostics.check_bundle, content)
    except ApiError as err:  # the request (if this answers one) says why, on the dashboard
        if asked and terminal_id:
            await asyncio.to_thread(diagnostics.refuse_request, request.app[STORE].engine,
                                    terminal_id, int(asked),
                                    diagnostics.REFUSED.get(err.status, "refused:broken"))  # fmt: skip
        raise
    bundle_id = await asyncio.to_thread(
        diagnostics.store_upload, request.app[STORE].engine, terminal_id,
        int(asked) if asked else None, content, dt.datetime.now(dt.UTC))  # fmt: skip
    log.info("diagnostics bundle %d (%d bytes) from %s", bundle_id, len(content), terminal_id)
    return _json({"id": bundle_id, "size": len(content)}, 201)


@access(SIGNED)
async def diagnostics_refused(request: web.Request) -> web.Response:
    """The terminal will not send a requested bundle: its own scan found personal data in
    it, or it is too large. The request says so on the dashboard (as a bundle the platform
    refused would), and is no longer asked for."""
    body = _object(await _body(request), "request")
    _only(body, "request", "reason", "terminal_id")
    asked, reason = _count(body, "request"), body.get("reason")
    if not asked:
        raise ApiError(400, "request.wrong_type", "request")
    if not isinstance(reason, str) or reason not in diagnostics.TERMINAL_REFUSED:
        raise ApiError(400, "request.wrong_type", "reason")
    refused = await asyncio.to_thread(
        diagnostics.refuse_request, request.app[STORE].engine, _terminal_id(request, body),
        asked, diagnostics.TERMINAL_REFUSED[reason])  # fmt: skip
    return _json({"refused": refused})


def setup(app: web.Application) -> None:
    app.router.add_post(f"{API}/ratings", rate)
    app.router.add_post(f"{API}/help-requests", call_staff)
    app.router.add_post(f"{API}/events", events)
    app.router.add_post(f"{API}/help-requests/over", help_over)
    app.router.add_post(f"{API}/diagnostics", upload_diagnostics)
    app.router.add_post(f"{API}/diagnostics/refused", diagnostics_refused)
