"""Volumes: what terminals did, counted by hour or day, per service point and per terminal.

Four measures, each from where it is recorded:

- sessions and queries: ``terminal_events``, sent by terminals (``POST /api/v1/events``)
  when a visit ends or a citizen looks up an application; no personal data;
- applications: ``submissions`` (by life event and by matter, from the body's codes only);
- tickets: ``tickets``.

Counting happens in the database (GROUP BY a China-time bucket), so a month of a
county's traffic is a handful of rows to Python. China keeps no daylight saving,
so on SQLite the bucket is the UTC time shifted by eight hours; PostgreSQL converts
with the named zone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from central import tables as t
from central.errors import ApiError

CHINA = ZoneInfo("Asia/Shanghai")
MEASURES = ("sessions", "applications", "queries", "tickets")
KINDS = ("session", "query")
MAX_EVENTS = 200  # a batch; a terminal offline for a while sends several
KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
CODE_RE = re.compile(r"^[a-z0-9_.-]{0,64}$")  # a life event, a way of ending, a query kind
REASON_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # how a visit ended, what was looked up
SESSION_FIELDS = {"key", "kind", "at", "seconds", "end", "life_event", "submitted", "elderly",
                  "language"}  # fmt: skip
QUERY_FIELDS = {"key", "kind", "at", "what", "found"}
UNITS = ("hour", "day")
MAX_HOURS_RANGE = 14  # days; beyond, hourly bars are too thin to read


@dataclass(frozen=True)
class Event:
    key: str
    kind: str
    at: dt.datetime
    detail: dict[str, Any]


def _bad(name: str) -> ApiError:
    return ApiError(400, "request.wrong_type", name)


def parse_events(body: Any, now: dt.datetime) -> list[Event]:
    """The events of a ``POST /api/v1/events`` body, checked field by field.

    Only the fields named here are allowed, each with a narrow type, so no name,
    number or free text can ride along.

    :raises ApiError: 400 for anything else.
    """
    if not isinstance(body, dict) or set(body) - {"events", "terminal_id"}:
        raise _bad("events")
    items = body.get("events")
    if not isinstance(items, list) or len(items) > MAX_EVENTS:
        raise _bad("events")
    out = []
    for i, item in enumerate(items):
        where = f"events[{i}]"
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            raise _bad(f"{where}.kind")
        allowed = SESSION_FIELDS if item["kind"] == "session" else QUERY_FIELDS
        unknown = set(item) - allowed
        if unknown:
            raise ApiError(400, "request.unknown_field", f"{where}.{sorted(unknown)[0]}"[:64])
        key = item.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise _bad(f"{where}.key")
        try:
            at = dt.datetime.fromisoformat(str(item.get("at", "")))
        except ValueError:
            raise _bad(f"{where}.at") from None
        if at.tzinfo is None:
            raise _bad(f"{where}.at")
        at = min(at.astimezone(dt.UTC), now)  # a terminal clock running ahead is not the future
        detail: dict[str, Any] = {}
        if item["kind"] == "session":
            seconds = item.get("seconds", 0)
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not 0 <= seconds <= 86400
            ):
                raise _bad(f"{where}.seconds")
            detail["seconds"] = round(float(seconds), 1)
            end = item.get("end", "finished")
            if not isinstance(end, str) or not REASON_RE.match(end):
                raise _bad(f"{where}.end")
            language = item.get("language", "zh")
            if language not in ("zh", "en"):
                raise _bad(f"{where}.language")
            detail["end"], detail["language"] = end, language
            event = item.get("life_event", "")
            if not isinstance(event, str) or not CODE_RE.match(event):
                raise _bad(f"{where}.life_event")
            detail["life_event"] = event
            for name in ("submitted", "elderly"):
                if not isinstance(item.get(name, False), bool):
                    raise _bad(f"{where}.{name}")
                detail[name] = item.get(name, False)
        else:
            what = item.get("what")
            if not isinstance(what, str) or not REASON_RE.match(what):
                raise _bad(f"{where}.what")
            if not isinstance(item.get("found", True), bool):
                raise _bad(f"{where}.found")
            detail = {"what": item["what"], "found": item.get("found", True)}
        out.append(Event(key, item["kind"], at, detail))
    return out


def add_events(engine: sa.Engine, terminal_id: str, events: Sequence[Event],
               now: dt.datetime) -> int:  # fmt: skip
    """Store events not stored before (by key); how many were new.

    :raises ApiError: 401 the terminal is not enrolled.
    """
    if not events:
        return 0
    e = t.terminal_events
    with engine.begin() as conn:
        point = conn.execute(sa.select(t.terminals.c.service_point)
                             .where(t.terminals.c.id == terminal_id)).scalar()  # fmt: skip
        if point is None:
            raise ApiError(401, "auth.unknown_terminal")
        keys = [ev.key for ev in events]
        seen = set(conn.execute(sa.select(e.c.key).where(e.c.key.in_(keys))).scalars())
        fresh = {
            ev.key: ev for ev in events if ev.key not in seen
        }  # a key twice in one batch: once
        new = 0
        for ev in fresh.values():
            try:
                with conn.begin_nested():  # the same batch stored by a retry a moment ago
                    conn.execute(e.insert().values(
                        key=ev.key, terminal_id=terminal_id, service_point=point, kind=ev.kind,
                        at=ev.at, received_at=now, detail=ev.detail))  # fmt: skip
                new += 1
            except sa.exc.IntegrityError:
                pass
        if fresh:  # the terminal page's "unused" reads this, not a day of events
            newest, term = max(ev.at for ev in fresh.values()), t.terminals
            conn.execute(term.update().where(
                term.c.id == terminal_id,
                sa.or_(term.c.last_used_at.is_(None), term.c.last_used_at < newest),
            ).values(last_used_at=newest))  # fmt: skip
    return new


# -- the report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Whole China-time days ``first``..``last`` (inclusive), counted by ``unit``."""

    first: dt.date
    last: dt.date
    unit: str = "day"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), CHINA).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), CHINA).astimezone(
            dt.UTC
        )

    def buckets(self) -> list[str]:
        """Every bucket label in the range, in order (empty ones included)."""
        days = [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]
        if self.unit == "day":
            return [d.isoformat() for d in days]
        return [f"{d.isoformat()} {h:02d}" for d in days for h in range(24)]


def parse_range(first: str, last: str, unit: str, today: dt.date) -> tuple[Range, str]:
    """The range asked for in the query string, made sensible; and a note when it was changed.

    Defaults: the last 7 days by day; one day by hour. Hourly counts cover at most
    MAX_HOURS_RANGE days; a longer range is counted by day.
    """
    unit = unit if unit in UNITS else "day"
    try:
        b = dt.date.fromisoformat(last) if last else today
    except ValueError:
        b = today
    default_span = 0 if unit == "hour" else 6
    try:
        a = dt.date.fromisoformat(first) if first else b - dt.timedelta(days=default_span)
    except ValueError:
        a = b - dt.timedelta(days=default_span)
    if a > b:
        a, b = b, a
    if (b - a).days > 366:
        a = b - dt.timedelta(days=366)
    note = ""
    if unit == "hour" and (b - a).days + 1 > MAX_HOURS_RANGE:
        unit, note = "day", "hours_too_long"
    return Range(a, b, unit), note


@dataclass
class Report:
    range: Range
    series: dict[str, Counter] = field(default_factory=dict)  # measure → bucket → n
    per_point: dict[str, Counter] = field(default_factory=dict)  # measure → point → n
    per_terminal: dict[str, Counter] = field(default_factory=dict)  # measure → terminal → n
    terminal_points: dict[str, str] = field(default_factory=dict)
    by_life_event: Counter = field(default_factory=Counter)  # "" = single matters
    by_matter: Counter = field(default_factory=Counter)
    ended: Counter = field(default_factory=Counter)  # how sessions ended
    queries_by_kind: Counter = field(default_factory=Counter)

    def total(self, measure: str) -> int:
        return sum(self.series.get(measure, Counter()).values())


def _bucket(column: sa.ColumnElement, unit: str, dialect: str) -> sa.ColumnElement[str]:
    if dialect == "postgresql":
        fmt = "YYYY-MM-DD HH24" if unit == "hour" else "YYYY-MM-DD"
        return sa.func.to_char(sa.func.timezone("Asia/Shanghai", column), fmt)
    fmt = "%Y-%m-%d %H" if unit == "hour" else "%Y-%m-%d"
    return sa.func.strftime(fmt, sa.func.datetime(column, "+8 hours"))


def _in_scope(column, scope: Sequence[str] | None):
    return sa.true() if scope is None else column.in_(list(scope))


def _sources() -> dict[str, tuple[sa.Table, Any, Any, Any, Any]]:
    """measure → (table, time column, point column, terminal column, extra condition)."""
    e, s, k = t.terminal_events, t.submissions, t.tickets
    _what = sa.func.coalesce(e.c.detail["what"].as_string(), "")
    return {
        "sessions": (e, e.c.at, e.c.service_point, e.c.terminal_id, e.c.kind == "session"),
        # a ticket taken is counted from ``tickets``, not again as a query
        "queries": (
            e,
            e.c.at,
            e.c.service_point,
            e.c.terminal_id,
            sa.and_(e.c.kind == "query", _what != "ticket"),
        ),
        "applications": (s, s.c.received_at, s.c.accepting_point, s.c.terminal_id, sa.true()),
        "tickets": (k, k.c.issued_at, k.c.service_point, k.c.terminal_id, sa.true()),
    }


def report(
    engine: sa.Engine, scope: Sequence[str] | None, rng: Range, terminal: str = ""
) -> Report:
    """Every measure in ``rng`` for the points in ``scope`` (None: all), optionally one terminal."""
    out = Report(rng)
    dialect = engine.dialect.name
    with engine.connect() as conn:
        for measure, (table, when, point, term, extra) in _sources().items():
            where = [when >= rng.start, when < rng.end, _in_scope(point, scope), extra]
            if terminal:
                where.append(term == terminal)
            bucket = _bucket(when, rng.unit, dialect).label("bucket")
            rows = conn.execute(sa.select(bucket, point.label("point"), term.label("terminal"),
                                          sa.func.count().label("n"))
                                .select_from(table).where(*where)
                                .group_by(bucket, point, term)).all()  # fmt: skip
            series, per_point, per_terminal = Counter(), Counter(), Counter()
            for r in rows:
                series[r.bucket] += r.n
                per_point[r.point] += r.n
                if r.terminal:
                    per_terminal[r.terminal] += r.n
                    out.terminal_points.setdefault(r.terminal, r.point)
            out.series[measure], out.per_point[measure] = series, per_point
            out.per_terminal[measure] = per_terminal
        s = t.submissions
        where = [s.c.received_at >= rng.start, s.c.received_at < rng.end,
                 _in_scope(s.c.accepting_point, scope)]  # fmt: skip
        if terminal:
            where.append(s.c.terminal_id == terminal)
        event = s.c.body["life_event"].as_string()
        matters = sa.cast(s.c.body["matters"], sa.Text)  # only the codes leave the database
        for code, listed, n in conn.execute(sa.select(event, matters, sa.func.count())
                                            .where(*where).group_by(event, matters)):  # fmt: skip
            out.by_life_event[code or ""] += n
            for m in _codes(listed):
                out.by_matter[m] += n
        e = t.terminal_events
        where = [e.c.at >= rng.start, e.c.at < rng.end, _in_scope(e.c.service_point, scope)]
        if terminal:
            where.append(e.c.terminal_id == terminal)
        end, what = e.c.detail["end"].as_string(), e.c.detail["what"].as_string()
        for kind, ended, asked, n in conn.execute(sa.select(e.c.kind, end, what, sa.func.count())
                                                  .where(*where).group_by(e.c.kind, end, what)):  # fmt: skip
            if kind == "session":
                out.ended[ended or ""] += n
            else:
                out.queries_by_kind[asked or ""] += n
    return out


def _codes(listed: Any) -> Iterable[str]:
    try:
        value = json.loads(listed) if isinstance(listed, str) else listed
    except ValueError:
        return ()
    return [str(v) for v in value] if isinstance(value, list) else ()


def terminal_ids(engine: sa.Engine, scope: Sequence[str] | None) -> list[str]:
    """Enrolled, unrevoked terminals at the points in ``scope`` (None: all), by point and id."""
    term = t.terminals
    with engine.connect() as conn:
        return list(conn.execute(sa.select(term.c.id).where(
            term.c.revoked_at.is_(None), _in_scope(term.c.service_point, scope))
            .order_by(term.c.service_point, term.c.id)).scalars())  # fmt: skip
