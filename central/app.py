"""The reference central platform as an aiohttp application.

Handlers stay thin: parse, call the store in a worker thread, answer JSON.
Every error is an ``ApiError`` (status + message key + zh/en text); a bad body
never reaches the database and never yields a 500.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from central import decide, validate
from central.auth import NONCE, SECRETS, TERMINAL, SecretCache, check_office, verify_signature
from central.config import CentralConfig
from central.dashboard import status
from central.dashboard.data import HallStore
from central.dashboard.remote import PUSHES
from central.db import database_down, make_engine, migrate, reader
from central.errors import ApiError
from central.sealing import SecretBox
from central.store import NONCE_KEEP, Store, body_hash
from central.writes import WRITES, GroupWriter
from kiosk.catalog import Catalog, load_catalog
from kiosk.errors import CatalogError
from kiosk.outcomes import ON_SLIP, OutcomeKind, Submission
from kiosk.query import missing_items

log = logging.getLogger("central")
API = "/api/v1"
OPENAPI = Path(__file__).with_name("openapi.json")

CONFIG: web.AppKey[CentralConfig] = web.AppKey("config", CentralConfig)
STORE: web.AppKey[Store] = web.AppKey("store", Store)
CATALOG: web.AppKey[dict] = web.AppKey("catalog", dict)  # {"catalog", "json", "etag", "error"}
# terminals whose settings name another point → when the hall was last told (monotonic s)
POINT_WARNED: web.AppKey[dict] = web.AppKey("point_warned", dict)
POINT_WARN_AGAIN = 3600.0  # seconds: an alert closed while the settings are still wrong comes back

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC, SIGNED, OFFICE = "public", "signed", "office"


# json.dumps(data, ensure_ascii=False), without building an encoder per call (every answer)
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _json(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(text=_ENCODE(data), status=status,
                        content_type="application/json", headers=headers)  # fmt: skip


def access(level: str, *, nonce_in_write: bool = False) -> Callable[[Handler], Handler]:
    """Mark a handler's access level. ``nonce_in_write``: a signed handler that stores
    ``request.get(NONCE)`` in its own write (central/writes.py), one transaction, not two."""

    def mark(handler: Handler) -> Handler:
        handler.access = level  # type: ignore[attr-defined]
        handler.nonce_in_write = nonce_in_write  # type: ignore[attr-defined]
        return handler

    return mark


async def _body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # "[[[[…": too deep
        raise ApiError(400, "request.not_json") from err


def _object(body: Any, *names: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "request.wrong_type", "body")
    for name in names:
        if name not in body:
            raise ApiError(400, "request.missing_field", name)
    return body


def _text(body: dict, name: str, max_len: int = 500) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > max_len:
        raise ApiError(400, "request.wrong_type", name)
    return value


def _count(body: dict, name: str) -> int | None:
    """A whole number 0 ≤ n < 2³¹, or None when the field is absent."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ApiError(400, "request.wrong_type", name)
    return value


# -- middlewares ----------------------------------------------------------------

STATUS_KEYS = {404: "request.not_found", 405: "request.method", 413: "request.too_large"}


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who may call (a handler's ``access`` mark), and every error as an ApiError's JSON.

    One middleware, not two: it runs for every heartbeat of every terminal."""
    try:
        marked = request.match_info.handler
        level = getattr(marked, "access", PUBLIC)
        if level == SIGNED:
            cfg = request.app[CONFIG]
            if cfg.require_signatures:
                signed = await verify_signature(request, cfg.clock_skew)
                request[TERMINAL] = signed.terminal_id
                if getattr(marked, "nonce_in_write", False):
                    request[NONCE] = signed.nonce
                else:
                    await request.app[WRITES].nonce(signed.terminal_id, signed.nonce)
        elif level == OFFICE:
            check_office(request, request.app[CONFIG].office_token)
        return await handler(request)
    except ApiError as err:
        return _json(err.body(), err.status)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return _json(
            ApiError(err.status, STATUS_KEYS.get(err.status, "server.error")).body(), err.status
        )
    except Exception as err:
        if database_down(err):  # not a defect: the database is away or busy; try again
            _database_down(request.app, err)
            return _json(ApiError(503, "server.database").body(), 503, **{"Retry-After": "5"})
        # a defect: say so without a traceback on the wire
        log.exception("unhandled error in %s %s", request.method, request.path)
        return _json(ApiError(500, "server.error").body(), 500)


DOWN_SAID: web.AppKey[dict] = web.AppKey("database_down_said", dict)  # when last logged
DOWN_LOG_EVERY = 30.0  # seconds: one line an outage's half-minute, not one a request


def _database_down(app: web.Application, err: Exception) -> None:
    said = app[DOWN_SAID]
    now = time.monotonic()
    said["count"] = said.get("count", 0) + 1
    if now - said.get("at", -DOWN_LOG_EVERY) >= DOWN_LOG_EVERY:
        # the kind of error only: a driver's message can carry a statement's parameters
        cause = getattr(err, "orig", None) or err
        log.warning("database unavailable (%s): %d requests answered 503 since the last report",
                    type(cause).__name__, said["count"])  # fmt: skip
        said["at"], said["count"] = now, 0


# -- public -----------------------------------------------------------------------


@access(PUBLIC)
async def health(request: web.Request) -> web.Response:
    """Ok, or 503 when the database does not answer (a load balancer takes this server out;
    a technician's self-test says so)."""
    cat = request.app[CATALOG]
    reachable = await _database_answers(request.app)
    return _json({
        "status": "ok" if reachable else "unavailable",
        "version": request.app[CONFIG].version,
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "database": request.app[STORE].engine.dialect.name,
        "database_reachable": reachable,
        "catalog": {"etag": cat["etag"], "error": cat["error"]},
    }, 200 if reachable else 503)  # fmt: skip


DB_SEEN: web.AppKey[dict] = web.AppKey("database_seen", dict)  # the last check and its answer
DB_CHECK_EVERY = 2.0  # seconds: a fleet's health checks share one query a process


async def _database_answers(app: web.Application) -> bool:
    seen = app[DB_SEEN]
    # one probe at a time: one that hangs (a network fault) holds a thread, not every one
    if time.monotonic() - seen.get("at", -DB_CHECK_EVERY) >= DB_CHECK_EVERY \
            and not seen.get("probing"):  # fmt: skip
        seen["at"] = time.monotonic()  # before the query: the checks meanwhile take the last answer
        seen["probing"] = True
        probe = asyncio.ensure_future(asyncio.to_thread(_select_one, app[STORE].engine))
        probe.add_done_callback(partial(_probed, seen))
        try:
            await asyncio.wait_for(asyncio.shield(probe), 5)
            seen["ok"] = True
        except TimeoutError:
            seen["ok"] = False
        except Exception as err:
            if not database_down(err):
                raise
            seen["ok"] = False
    return seen.get("ok", True)


def _probed(seen: dict, probe: asyncio.Future) -> None:
    seen["probing"] = False
    if not probe.cancelled():
        probe.exception()  # taken: a probe that failed after its answer was given up on


def _select_one(engine: sa.Engine) -> None:
    with reader(engine).connect() as conn:
        conn.execute(sa.text("SELECT 1"))


@access(PUBLIC)
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=OPENAPI.read_bytes(), content_type="application/json")


@access(PUBLIC)
async def catalog(request: web.Request) -> web.Response:
    cat = request.app[CATALOG]
    if cat["json"] is None:
        raise ApiError(503, "server.error", "catalog")
    if cat["etag"] in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers={"ETag": cat["etag"]})
    return web.Response(
        body=cat["json"], content_type="application/json", headers={"ETag": cat["etag"]}
    )


@access(PUBLIC)
async def enrol(request: web.Request) -> web.Response:
    body = _object(await _body(request), "code")
    code = _text(body, "code", 64)
    return _json(await asyncio.to_thread(request.app[STORE].enrol, code), 201)


# -- terminals (signed) -----------------------------------------------------------


def _terminal(request: web.Request, claimed: str) -> str:
    signed = request.get(TERMINAL)
    if signed is not None and claimed != signed:
        raise ApiError(403, "auth.terminal_mismatch", "terminal_id")
    return claimed


async def _accepted_where_enrolled(request: web.Request, sub: Submission) -> Submission:
    """``sub`` accepted at the service point its terminal was enrolled at: the citizen was
    in that hall, and that hall's volumes count it. A kiosk whose file names another point
    (a technician's slip) is not refused (the citizen is not turned away, nor a queued
    submission lost): the platform's record wins, and the mismatch is logged once a
    process for the technician (ids and point codes only). A terminal enrolled at a point
    the catalog no longer lists (a hall closed) keeps the submission's own point."""
    terminal_id = request.get(TERMINAL)
    if terminal_id is None:  # an unsigned reference server: the submission's word
        return sub
    point = await request.app[SECRETS].point(terminal_id)
    if not point or point == sub.accepting_point:
        return sub
    said = sub.accepting_point[:32]
    points = request.app[CATALOG]["catalog"].service_points
    if point not in points:
        # (on the dashboard of the point it names, when there is one: else its 422 follows)
        await _warn_point(request, terminal_id, said if said in points else "", said,
                          f"is enrolled at {point!r}, which the catalog no longer lists: "
                          f"recorded at {said!r}",
                          f"终端登记的服务点 {point} 已不在事项目录中，办件按终端设置的 {said} "
                          "记录：请重新登记这台终端")  # fmt: skip
        return sub
    def named(code: str) -> str:  # a hall's name for the staff, its code for the config file
        return f"{points[code].name.zh}（{code}）" if code in points else code

    await _warn_point(request, terminal_id, point, said,
                      f"submits for service point {said!r} but is enrolled at {point!r}: "
                      f"recorded at {point!r} (correct the kiosk's config)",
                      f"终端设置的服务点为 {named(said)}，登记的是 {named(point)}；办件按登记的"
                      f" {named(point)} 记录：请技术员改正终端设置（terminal.service_point）")  # fmt: skip
    return replace(sub, accepting_point=point)


async def _warn_point(request: web.Request, terminal_id: str, hall: str, said: str,
                      what: str, to_do: str) -> None:  # fmt: skip
    """Tell the technician, in the log and as an alert on the dashboard of ``hall`` ("":
    the log only; ids and point codes only), that ``terminal_id``'s settings name the
    service point ``said`` that is not the one it was enrolled at: once an hour a process
    (the database keeps one alert open; one closed while the settings are still wrong is
    opened again by the next submission after the hour)."""
    warned, now = request.app[POINT_WARNED], time.monotonic()
    last = warned.get(terminal_id)
    if last is not None and now - last < POINT_WARN_AGAIN:
        return
    if last is None and len(warned) >= 10_000:  # a bound, not a policy
        return
    warned[terminal_id] = now
    log.warning("terminal %s %s", terminal_id, what)
    if not hall:
        return
    try:
        await asyncio.to_thread(HallStore(request.app[STORE].engine).open_by_people,
                                status.POINT_MISMATCH, terminal_id, hall,
                                f"{terminal_id} {said}", to_do)  # fmt: skip
    except sa.exc.SQLAlchemyError as err:  # the submission goes on all the same
        warned.pop(terminal_id, None)  # (the next submission tries again)
        log.error("terminal %s: no alert for its service point (%s)", terminal_id,
                  type(err).__name__)  # fmt: skip


@access(SIGNED, nonce_in_write=True)
async def submit(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    sub = validate.parse_submission(await _body(request))
    _terminal(request, sub.terminal_id)
    # the hash covers what the submission says, not how its JSON was spaced (nor the point
    # put right below: a replay of the same submission hashes the same)
    sent = sub.to_dict()
    digest = body_hash(sent)
    sub = await _accepted_where_enrolled(request, sub)
    if request.app[CATALOG]["error"]:  # not "unknown matter": the kiosk tries again later
        raise ApiError(503, "server.catalog")
    cat: Catalog = request.app[CATALOG]["catalog"]
    accept = partial(decide.accept, sub, cat)
    try:
        validate.check_against_catalog(sub, cat)
    except ApiError:
        # a replay of a submission stored before the catalog changed (its answer was lost,
        # and the kiosk printed a pending slip): the outcome it was given, not a refusal
        # that would set the slip aside unlinked
        stored = await asyncio.to_thread(request.app[STORE].stored_outcome, sub.key, sent)
        if stored is not None:
            if request.get(NONCE) is not None:  # the signed request is used up all the same
                await request.app[WRITES].nonce(request[TERMINAL], request[NONCE])
            return _json(stored, 200)
        if request.query.get(ON_SLIP) != "1" or not sub.local_number:
            raise  # the citizen is at the kiosk: they put it right on the screen
        problems = list(validate.catalog_problems(sub, cat))
        if not all(p.key in decide.CITIZEN_CAN_MEND for p in problems):
            # a code the catalog does not know (renamed? a kiosk's own fault?): set aside
            # on the kiosk for a technician, and sent again once the catalog is put right
            raise
        # its citizen left with a pending slip, and only they can put it right: taken in
        # with a correction notice, not refused (the slip would never be linked, nor its
        # citizen told what to bring)
        accept = partial(decide.received_needing_more, sub, cat, problems)
        log.warning("a pending slip's submission does not meet the catalog now (%s): taken in "
                    "with a correction notice", ", ".join(p.key for p in problems))  # fmt: skip
    body = sub.to_dict()
    # answered only once committed (fsynced on SQLite), with the nonce in the same transaction
    _, new, outcome = await request.app[WRITES].submit(
        sub, digest, cfg.number_prefix, accept, request.get(NONCE), body, sent
    )
    if new and outcome["kind"] == OutcomeKind.NEEDS_MORE.value:
        await _tell_the_hall(request, sub, outcome, cat)
    if new and cfg.failpoint == "exit-after-commit":
        log.warning("failpoint exit-after-commit: dying before the answer")
        os._exit(70)
    return _json(outcome, 201 if new else 200)


async def _tell_the_hall(request: web.Request, sub: Submission, outcome: dict[str, Any],
                         cat: Catalog) -> None:  # fmt: skip
    """An alert on the dashboard of the accepting point's hall: a pending slip's submission
    taken in with a correction notice, whose citizen has left and is to be contacted (the
    notice is on its tracking page too). Names of fields and materials, no personal data.
    The submission is stored whatever happens here."""
    materials, fields = missing_items(outcome["missing"], cat, "zh")
    what = "；".join(filter(None, (
        f"收件凭证 {sub.local_number}",
        fields and "请补填：" + "、".join(fields),
        materials and "请补齐：" + "、".join(materials),
    )))  # fmt: skip
    number = outcome["acceptance_number"]
    try:
        await asyncio.to_thread(HallStore(request.app[STORE].engine).open_by_people,
                                status.CORRECTION, request.get(TERMINAL) or sub.terminal_id,
                                sub.accepting_point, number, what)  # fmt: skip
    except sa.exc.SQLAlchemyError as err:
        log.error("%s: taken in with a correction notice, but no alert for its hall (%s)",
                  number, type(err).__name__)  # fmt: skip


@access(SIGNED)
async def progress(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    return _json((await asyncio.to_thread(request.app[STORE].progress, number)).to_dict())


DEVICE_FIELDS = 8  # a device in a heartbeat: device, state, reason, failed_reads (and room)
DEVICE_TEXT = 300  # characters of each: every beat is stored, for every terminal


@access(SIGNED, nonce_in_write=True)
async def heartbeat(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    devices = body.get("devices", [])
    if not isinstance(devices, list) or len(devices) > 50:
        raise ApiError(400, "request.wrong_type", "devices")
    for i, d in enumerate(devices):  # plain loops: this runs for every beat of every terminal
        if type(d) is not dict or len(d) > DEVICE_FIELDS:
            raise ApiError(400, "request.wrong_type", "devices")
        for k, v in d.items():
            if type(v) is not str or len(k) > 32:
                raise ApiError(400, "request.wrong_type", "devices")
            if len(v) > DEVICE_TEXT:  # a long reason is cut, not refused: the beat matters
                devices[i] = d = {**d, k: v[:DEVICE_TEXT]}
    beat = {
        "software_version": _text(body, "software_version", 32),
        "screen": _text(body, "screen", 64),
        "paper": _text(body, "paper", 32),
        "devices": devices,
        "uptime": _count(body, "uptime"),  # seconds the kiosk has run
        "catalog_version": _text(body, "catalog_version", 64) or None,
        "config_version": _count(body, "config_version"),  # remote settings it applied
    }
    # A field added to ``beat`` needs a column in tables.heartbeats and tables.terminal_state
    # (a migration). Keep this path free of queries of its own: bench_platform.py holds it to
    # half a hello-world handler's rate (read anything else from a per-process cache).
    terminal_id = request.get(TERMINAL) or _text(body, "terminal_id", 64)
    # stored with the request's nonce in one group transaction (central/writes.py)
    await request.app[WRITES].heartbeat(terminal_id, beat, request.get(NONCE))
    # remote settings not yet acknowledged, diagnostics asked for: from a per-process cache
    pushes = request.app.get(PUSHES)
    extra = await pushes.reply(terminal_id, beat["config_version"]) if pushes else {}
    return _json({"ok": True, "time": dt.datetime.now(dt.UTC).isoformat(), **extra})


# -- office -----------------------------------------------------------------------


@access(OFFICE)
async def add_code(request: web.Request) -> web.Response:
    body = _object(await _body(request), "service_point")
    point = _text(body, "service_point", 32)
    cat: Catalog = request.app[CATALOG]["catalog"]
    if cat.service_points and point not in cat.service_points:
        raise ApiError(422, "submission.unknown_point", point)
    return _json({"code": await asyncio.to_thread(request.app[STORE].add_code, point)}, 201)


@access(OFFICE)
async def revoke(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[STORE].revoke, request.match_info["terminal_id"])
    return _json({"revoked": request.match_info["terminal_id"]})


@access(OFFICE)
async def office_action(request: web.Request) -> web.Response:
    store, number, action = (
        request.app[STORE],
        request.match_info["number"],
        request.match_info["action"],
    )
    body = _object(await _body(request) if request.can_read_body else {})
    note = _text(body, "note")
    if action == "advance":
        result = await asyncio.to_thread(store.advance, number, note)
    elif action == "resume":
        accept = partial(decide.accept_corrected, request.app[CATALOG]["catalog"])
        result = await asyncio.to_thread(store.resume, number, note, accept)
    elif action == "needs-more":
        missing = body.get("missing")
        if (
            not isinstance(missing, list)
            or not missing
            or not all(isinstance(m, str) for m in missing)
        ):
            raise ApiError(400, "request.wrong_type", "missing")
        result = await asyncio.to_thread(store.needs_more, number, missing, note)
    elif action == "refuse":
        reason = _text(body, "reason")
        if not reason.strip():
            raise ApiError(400, "request.missing_field", "reason")
        result = await asyncio.to_thread(store.refuse, number, reason)
    else:
        raise ApiError(404, "request.not_found")
    return _json(result.to_dict())


# -- assembly ---------------------------------------------------------------------


def _load_catalog(config: CentralConfig, given: Catalog | None) -> dict[str, Any]:
    error = ""
    cat = given
    if cat is None:
        try:
            cat = read_catalog(Path(config.catalog_dir))
        except CatalogError as err:
            # Serve anyway (health, enrolment, progress still work) and say why on /health;
            # every submission is then refused as naming an unknown matter.
            log.error("catalog not loaded: %s", err)
            error = str(err)
    if cat is None:
        return {"catalog": _EMPTY, "json": None, "etag": "", "error": error}
    data = json.dumps(cat.to_dict(), ensure_ascii=False, sort_keys=True).encode()
    return {
        "catalog": cat,
        "json": data,
        "etag": f'"{hashlib.sha256(data).hexdigest()[:32]}"',
        "error": "",
    }


def read_catalog(directory: Path) -> Catalog:
    """TOML files (the county's data), or one catalog.json (an exported copy, as kiosks cache it).

    :raises CatalogError: the files are missing or invalid.
    """
    exported = directory / "catalog.json"
    if not exported.exists():
        return load_catalog(directory)
    try:
        return Catalog.from_dict(json.loads(exported.read_text(encoding="utf-8")))
    except (OSError, ValueError) as err:
        raise CatalogError(f"cannot read: {err}", file=str(exported)) from err


def _empty_catalog() -> Catalog:
    from kiosk.catalog import Bilingual

    return Catalog(Bilingual("", ""), "", 0, {}, {}, {}, {}, {}, {}, {})


_EMPTY = _empty_catalog()


def make_app(config: CentralConfig, catalog_override: Catalog | None = None) -> web.Application:
    """The platform as an aiohttp application; the database is migrated on start-up.

    ``catalog_override`` serves an already-loaded catalog instead of reading
    ``config.catalog_dir`` (tests, or a catalog built in code).
    """
    app = web.Application(middlewares=[api_middleware],
                          client_max_size=config.max_body)  # fmt: skip
    app[CONFIG] = config
    app[CATALOG] = _load_catalog(config, catalog_override)
    app[POINT_WARNED] = {}
    app[DOWN_SAID] = {}
    app[DB_SEEN] = {}

    async def database(app: web.Application):
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        box = SecretBox.for_data_dir(config.data_dir)
        engine = make_engine(config.url)
        await asyncio.to_thread(migrate, engine, box)
        store = Store(engine, box)
        await asyncio.to_thread(store.check_key)  # a fleet without one key stops here, not later
        app[STORE] = store
        app[SECRETS] = SecretCache(store)
        # nonces kept for twice the clock skew, and never less than an e-ID code's life:
        # its used id is in the same table (central/eid.py), and must outlive the code
        keep = max(NONCE_KEEP, dt.timedelta(seconds=2 * config.clock_skew))
        writer = app[WRITES] = GroupWriter(store, keep)
        await writer.start()
        yield
        await writer.close()
        engine.dispose()

    app.cleanup_ctx.append(database)
    app.router.add_get(f"{API}/health", health)
    app.router.add_get(f"{API}/openapi.json", openapi)
    app.router.add_get(f"{API}/catalog", catalog)
    app.router.add_post(f"{API}/terminals/enrol", enrol)
    app.router.add_post(f"{API}/terminals/heartbeat", heartbeat)
    app.router.add_post(f"{API}/submissions", submit)
    app.router.add_get(f"{API}/applications/{{number}}", progress)
    app.router.add_post(f"{API}/office/enrolment-codes", add_code)
    app.router.add_post(f"{API}/office/terminals/{{terminal_id}}/revoke", revoke)
    app.router.add_post(f"{API}/office/applications/{{number}}/{{action}}", office_action)
    __import__("central.citizen_api", fromlist=["setup"]).setup(app)  # lazy: it imports this module
    __import__("central.terminal_api", fromlist=["setup"]).setup(app)  # ratings, help requests
    __import__("central.dashboard", fromlist=["setup"]).setup(app)  # the hall dashboard
    return app
