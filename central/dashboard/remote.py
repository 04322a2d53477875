"""Remote configuration: settings an administrator or technician pushes to terminals.

Settings live per service point and per terminal (a terminal's own lie over its
point's): ``inactivity`` and ``warning`` (seconds), ``elderly_factor``, ``notices``
(the attract screen's lines), ``elderly_default`` and, a terminal's own, ``place`` (where
it stands in its hall, shown on its technician screen). A setting left out is inherited
(point, then the terminal's own file). Every save takes a new version from one counter
row, so a terminal's effective version (the larger of its point's and its own) changes
whenever anything that applies to it changes.

The heartbeat reply carries the effective version, and the settings themselves when the
terminal reports another version applied; the terminal applies them and reports the new
version in its next beat ("acknowledged"). ``Pushes`` answers that from memory,
reloading the few rows every few seconds, so a beat costs no extra query; it also knows
which terminals owe a diagnostics bundle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from central import tables as t
from central.dashboard.data import HallStore, bump_counter
from kiosk.i18n import notice_parts

SCOPES = ("point", "terminal")
RANGES = {"inactivity": (30, 900), "warning": (20, 180)}  # seconds; WCAG 2.2.1: warn >= 20 s
FACTOR = (1.0, 4.0)
MAX_NOTICES, NOTICE_CHARS = 8, 80
COUNTER = "remote_config"
# settings kept by a save of the settings form, which does not show them: a terminal's place
# in its hall (its own form, save_place)
NOT_ON_THE_FORM = ("place",)


def parse_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings from the dashboard's form (an empty box inherits), and problems by field."""
    settings: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, (low, high) in RANGES.items():
        raw = str(form.get(name, "")).strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            problems[name] = f"{low}–{high}"
        else:
            settings[name] = int(raw)
    raw = str(form.get("elderly_factor", "")).strip()
    if raw:
        try:
            factor = float(raw)
        except ValueError:
            factor = 0.0
        if not FACTOR[0] <= factor <= FACTOR[1]:
            problems["elderly_factor"] = f"{FACTOR[0]:g}–{FACTOR[1]:g}"
        else:
            settings["elderly_factor"] = round(factor, 2)
    elderly = str(form.get("elderly_default", ""))
    if elderly in ("on", "off"):
        settings["elderly_default"] = elderly == "on"
    lines = [x.strip() for x in str(form.get("notices", "")).splitlines() if x.strip()]
    # each line "中文 | English" (the English optional): NOTICE_CHARS characters in Chinese,
    # twice that in English (about as long on the screen)
    too_long = any(len(zh) > NOTICE_CHARS or len(en) > 2 * NOTICE_CHARS
                   for zh, en in map(notice_parts, lines))  # fmt: skip
    if len(lines) > MAX_NOTICES or too_long:
        problems["notices"] = f"≤ {MAX_NOTICES} × {NOTICE_CHARS}"
    elif lines:
        settings["notices"] = lines
    return settings, problems


def merge(point: Mapping[str, Any] | None, terminal: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**(point or {}), **(terminal or {})}


class Changed(Exception):
    """The settings were saved by someone else since the form was opened: not saved."""

    def __init__(self, by: str, at: dt.datetime | None) -> None:
        super().__init__(f"changed meanwhile by {by}")
        self.by, self.at = by, at


def save(engine: sa.Engine, scope: str, scope_id: str, settings: Mapping[str, Any], by: str,
         now: dt.datetime, seen: int | None = None) -> int:  # fmt: skip
    """Replace the settings of one point or terminal; the new version. ``seen``: the
    version the form showed (0: none yet); the form replaces the settings whole, so a save
    made meanwhile (a manager's notices) would be undone by it silently.

    :raises ValueError: unknown scope.
    :raises Changed: saved by someone else since ``seen``: nothing is saved.
    """
    def replaced(old: Mapping[str, Any], _conn: sa.Connection) -> dict[str, Any]:
        # the form's settings, and what the form lacks
        return {**{k: v for k, v in old.items() if k in NOT_ON_THE_FORM}, **settings}

    return _change(engine, scope, scope_id, replaced, by, now, seen)


def save_place(engine: sa.Engine, terminal_id: str, typed: str, by: str,
               now: dt.datetime) -> str:  # fmt: skip
    """Name where a terminal stands in its hall ("" forgets it): kept for the dashboard's
    pages (``terminals.place``, HallStore.set_place, which checks it) and pushed to the
    terminal itself with its settings, the rest of them kept; the place as kept.

    :raises HallError: 422 a name too long or with control characters (nothing saved).
    """
    hall, kept = HallStore(engine), []

    def with_place(old: Mapping[str, Any], conn: sa.Connection) -> dict[str, Any]:
        # in the settings' transaction: the dashboard's name and the pushed one never differ
        kept[:] = [hall.set_place(terminal_id, typed, conn)]
        settings = {k: v for k, v in old.items() if k != "place"}
        return {**settings, "place": kept[0]} if kept[0] else settings

    _change(engine, "terminal", terminal_id, with_place, by, now)
    return kept[0]


def save_notices(engine: sa.Engine, point: str, notices: Sequence[str], by: str,
                 now: dt.datetime, seen: int | None = None) -> int:  # fmt: skip
    """Set one point's attract-screen notices (none: the terminals' own), keeping the rest
    of its settings (a technician's timeouts) as they are; the new version.

    :raises Changed: saved by someone else since ``seen`` (the version the page showed).
    """

    def with_notices(old: Mapping[str, Any], _conn: sa.Connection) -> dict[str, Any]:
        settings = {k: v for k, v in old.items() if k != "notices"}
        return {**settings, "notices": list(notices)} if notices else settings

    return _change(engine, "point", point, with_notices, by, now, seen)


def _change(engine: sa.Engine, scope: str, scope_id: str,
            change: Callable[[Mapping[str, Any], sa.Connection], dict[str, Any]], by: str,
            now: dt.datetime, seen: int | None = None) -> int:  # fmt: skip
    """``change(the settings now, the transaction)`` saved as one point's or terminal's
    settings (what else ``change`` writes on the transaction goes with them), in one
    transaction that takes the counter's lock first: every save queues on it, so one save
    is wholly before another's read or wholly after its write, never lost; the new version.
    With ``seen`` (the version a form was made from, 0 for none), only if nobody saved
    these settings since.

    :raises ValueError: unknown scope.
    :raises Changed: ``seen`` is not the version now.
    """
    if scope not in SCOPES:
        raise ValueError(scope)
    r = t.remote_configs
    here = (r.c.scope == scope, r.c.scope_id == scope_id)
    for _ in range(3):
        try:
            with engine.begin() as conn:
                version = _next_version(conn)
                row = conn.execute(sa.select(r.c.settings, r.c.version, r.c.updated_by,
                                             r.c.updated_at).where(*here)).first()  # fmt: skip
                found = None if row is None else row.settings
                if seen is not None and (0 if row is None else row.version) != seen:
                    raise Changed(row.updated_by if row else "", row.updated_at if row else None)
                settings = change(found or {}, conn)
                values = {"settings": settings, "version": version, "updated_by": by,
                          "updated_at": now}  # fmt: skip
                if settings.get("notices") != (found or {}).get("notices"):
                    values.update(notices_by=by, notices_at=now)
                if found is None:
                    conn.execute(r.insert().values(scope=scope, scope_id=scope_id, **values))
                else:
                    conn.execute(r.update().where(*here).values(**values))
                return version
        except sa.exc.IntegrityError:  # the same scope saved by another process a moment ago
            continue
    raise RuntimeError("remote configuration not saved")


def _next_version(conn: sa.Connection) -> int:
    # one upsert on the counter row: created at 1 or incremented, locked until commit
    step = bump_counter(COUNTER, conn).returning(t.counters.c.value)
    return int(conn.execute(step).scalar_one())


def rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = [dict(x._mapping) for x in conn.execute(sa.select(t.remote_configs))]
    for x in found:
        for k in ("updated_at", "notices_at"):
            if x[k] is not None and x[k].tzinfo is None:
                x[k] = x[k].replace(tzinfo=dt.UTC)
    return found


def effective(by_key: Mapping[tuple[str, str], Mapping[str, Any]], point: str,
              terminal: str) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """The version and settings that apply to ``terminal`` at ``point`` (0, {}: none)."""
    p, own = by_key.get(("point", point)), by_key.get(("terminal", terminal))
    version = max((x["version"] for x in (p, own) if x), default=0)
    return version, merge(p and p["settings"], own and own["settings"])


def push_status(engine: sa.Engine, scope: Sequence[str] | None) -> list[dict[str, Any]]:
    """Per terminal in scope: the version pushed to it, the one it acknowledged, last seen."""
    term, state = t.terminals, t.terminal_state
    q = (sa.select(term.c.id, term.c.service_point, state.c.config_version, state.c.at)
         .select_from(term.outerjoin(state, state.c.terminal_id == term.c.id))
         .where(term.c.revoked_at.is_(None),
                sa.true() if scope is None else term.c.service_point.in_(list(scope)))
         .order_by(term.c.service_point, term.c.id))  # fmt: skip
    by_key = {(x["scope"], x["scope_id"]): x for x in rows(engine)}
    with engine.connect() as conn:
        found = conn.execute(q).all()
    out = []
    for r in found:
        version, settings = effective(by_key, r.service_point, r.id)
        seen = r.at.replace(tzinfo=dt.UTC) if r.at is not None and r.at.tzinfo is None else r.at
        out.append({"terminal_id": r.id, "service_point": r.service_point, "pushed": version,
                    "acknowledged": r.config_version, "settings": settings, "last_seen": seen})  # fmt: skip
    return out


class Pushes:
    """What a heartbeat reply adds, from memory: remote settings and diagnostics requests.

    Reloads its rows at most every ``ttl`` seconds (``invalidate`` makes the next reply
    reload: the dashboard calls it after a save in this process); learns each terminal's
    service point once.
    """

    def __init__(self, engine: sa.Engine, ttl: float = 5.0):
        self.engine = engine
        self.ttl = ttl
        self._loaded = -1e9
        self._configs: dict[tuple[str, str], dict[str, Any]] = {}
        self._asked: dict[str, list[int]] = {}
        self._points: dict[str, str] = {}  # terminal → service point (it never changes)
        self._all_points = False
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded = -1e9

    def _load(self) -> tuple[dict, dict]:
        from central.dashboard import diagnostics

        configs = {(x["scope"], x["scope_id"]): x for x in rows(self.engine)}
        d = t.diagnostics_bundles
        since = dt.datetime.now(dt.UTC) - diagnostics.OPEN_FOR
        asked: dict[str, list[int]] = {}
        with self.engine.connect() as conn:
            for terminal_id, bundle_id in conn.execute(
                sa.select(d.c.terminal_id, d.c.id).where(d.c.state == "requested",
                                                          d.c.requested_at >= since)):  # fmt: skip
                asked.setdefault(terminal_id, []).append(int(bundle_id))
        return configs, asked

    def _point(self, terminal_id: str) -> str:
        """The terminal's service point: every terminal's in one query the first time, then
        one query for a terminal enrolled since."""
        term = t.terminals
        with self.engine.connect() as conn:
            if not self._all_points:
                found = conn.execute(sa.select(term.c.id, term.c.service_point)).all()
                self._points.update((r.id, r.service_point) for r in found)
                self._all_points = True
                if terminal_id in self._points:
                    return self._points[terminal_id]
            return conn.execute(sa.select(term.c.service_point)
                                .where(term.c.id == terminal_id)).scalar() or ""  # fmt: skip

    async def reply(self, terminal_id: str, acknowledged: int | None) -> dict[str, Any]:
        """The extra fields of ``terminal_id``'s heartbeat reply."""
        if time.monotonic() - self._loaded > self.ttl:
            async with self._lock:
                if time.monotonic() - self._loaded > self.ttl:
                    self._configs, self._asked = await asyncio.to_thread(self._load)
                    self._loaded = time.monotonic()
        if not self._configs and not self._asked:
            return {}  # nothing pushed, nothing asked: the common case costs nothing
        point = self._points.get(terminal_id)
        if point is None:
            point = self._points[terminal_id] = await asyncio.to_thread(self._point, terminal_id)
        out: dict[str, Any] = {}
        version, settings = effective(self._configs, point, terminal_id)
        if version:
            out["config_version"] = version
            if acknowledged != version:
                out["config"] = settings
        if terminal_id in self._asked:
            out["diagnostics"] = list(self._asked[terminal_id])
        return out


PUSHES: web.AppKey[Pushes] = web.AppKey("remote_pushes", Pushes)
