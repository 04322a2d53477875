"""The platform's state, behind one small class (SQLAlchemy Core; SQLite or PostgreSQL).

Methods are blocking; the aiohttp handlers call them in worker threads. What
must hold across processes is enforced by the database: a submission key is
unique, acceptance numbers come from a counter row updated inside the storing
transaction, nonces and enrolment codes are used once by a conditional write.

The busy paths (signed requests' nonces, heartbeats, submissions) go through
``write_batch``: several requests' writes in one transaction (central/writes.py
gathers them), each answered only after that transaction has committed, so on
SQLite a citizen hears "accepted" only once their own row is fsynced, and one
fsync serves every request of the batch.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from central import tables as t
from central.db import reader
from central.errors import ApiError
from central.sealing import PREFIX, SecretBox
from kiosk.outcomes import Outcome, OutcomeKind, Progress, Stage, StageEvent, Submission

CHINA = ZoneInfo("Asia/Shanghai")
# a heartbeat joins the history when one of these changed, or HISTORY_EVERY after the last row
HISTORY_FIELDS = ("software_version", "paper", "devices")
HISTORY_EVERY = dt.timedelta(minutes=15)
NONCE_KEEP = dt.timedelta(seconds=600)  # twice the default clock skew
APPLICANT_INDEX = "ix_submissions_applicant"  # migration 0006; 0007 puts it on ``applicant``
APPLICANTS_LISTED = 20  # a citizen's most recent applications shown by ID number
_ENCODE_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def applicant_sql(dialect: str, qualified: bool = True) -> str:
    """The applicant's ID number inside a plain submission body, in the dialect's SQL: what
    migration 0006 indexed (bodies are sealed since 0007; it reads them to seal them)."""
    body = "submissions.body" if qualified else "body"
    if dialect == "postgresql":
        return f"({body} -> 'fields' ->> 'applicant_id_number')"
    return f"json_extract({body}, '$.fields.applicant_id_number')"


def sealed_body(box: SecretBox, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """What the database keeps of a submission: the bundle and its matters in the open (the
    dashboard counts them; codes, no one's data), the whole body sealed for its key; and the
    applicant column: a keyed hash of their ID number (``applications_of`` looks it up)."""
    kept = {"life_event": body.get("life_event"), "matters": list(body.get("matters", ())),
            "sealed": box.seal_text(_ENCODE_BODY(body), key)}  # fmt: skip
    return kept, applicant_of(box, body)


def applicant_of(box: SecretBox, body: dict[str, Any]) -> str:
    """The applicant column for ``body``: the keyed hash of their ID number under ``box``'s
    sealing key ("" when the form names none)."""
    number = str((body.get("fields") or {}).get("applicant_id_number") or "").strip().upper()
    return box.blind(number) if number else ""


def open_body(box: SecretBox, key: str, kept: dict[str, Any]) -> dict[str, Any]:
    """A submission's body as the terminal sent it (a body from before 0007 is plain).

    :raises SealError: sealed with another key, or for another submission.
    """
    if "sealed" not in kept:
        return kept
    return json.loads(box.open_text(kept["sealed"], key))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored is UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True).encode  # one encoder, not one a submission


def body_hash(sent: dict[str, Any]) -> str:
    """What a submission's key is held to: a hash of what it says (its fields sorted), not
    of how its JSON was spaced."""
    return hashlib.sha256(_CANONICAL(sent).encode()).hexdigest()


def same_body(stored_hash: str, stored_terminal: str, digest: str, sent: dict[str, Any]) -> bool:
    """Whether a submission sent again under a stored key (``digest``: ``body_hash(sent)``)
    is the one stored: the same body, or the same body from the terminal that stored it
    enrolled anew under another id (``client.outbox.Outbox.adopt``: its answer was lost and
    its slip waits to be linked; refused as another body, it was set aside unlinked). The
    key and every word of the body, the citizen's data included, must still match."""
    if stored_hash == digest:
        return True
    return (sent.get("terminal_id") != stored_terminal
            and stored_hash == body_hash({**sent, "terminal_id": stored_terminal}))  # fmt: skip


@dataclass(eq=False)
class Write:
    """One request's part of a group transaction (``Store.write_batch``).

    ``nonce``: a signed request's nonce, stored once in the same transaction; the
    terminal must not be revoked (None: an unsigned call, signatures off).
    ``beat``: a heartbeat to store. ``submission``: (Submission, body hash, number
    prefix, decide(number, today) -> Outcome, the submission as a dict or None).
    ``sent``: the submission as its terminal sent it, which the body hash hashes (None:
    ``sub.to_dict()``): a replay from a re-enrolled terminal is known by it (``same_body``).
    After the batch, ``error`` is this request's own ApiError, or ``result`` is
    (Outcome, new, outcome as a dict) for a submission.
    """

    terminal_id: str
    nonce: str | None = None
    beat: dict[str, Any] | None = None
    submission: tuple[Submission, str, str, Callable[[str, dt.date], Outcome], dict] | None = None
    sent: dict[str, Any] | None = None
    result: Any = None
    error: ApiError | None = None


def _dialect(name: str):
    return postgresql if name == "postgresql" else sqlite


# Statements built once: a hot path pays for execution, not for building SQL.
_INSERTS = {table: table.insert() for table in (t.submissions, t.applications, t.stages)}
_STORED = (
    sa.select(t.submissions.c.key, t.submissions.c.body_hash, t.applications.c.outcome,
              t.submissions.c.terminal_id)
    .join(t.applications, t.applications.c.submission_key == t.submissions.c.key)
    .where(t.submissions.c.key.in_(sa.bindparam("keys", expanding=True)))
)
# the batch's terminals: revoked or not, and their latest beat (one query for both)
_TERMINALS = (
    sa.select(t.terminals.c.id, t.terminals.c.revoked_at, t.terminal_state)
    .select_from(t.terminals.outerjoin(
        t.terminal_state, t.terminal_state.c.terminal_id == t.terminals.c.id))
    .where(t.terminals.c.id.in_(sa.bindparam("ids", expanding=True)))
)  # fmt: skip


@functools.cache
def _counter_step(dialect: str) -> sa.Executable:
    by = sa.bindparam("by", type_=sa.BigInteger)
    ins = _dialect(dialect).insert(t.counters).values(name=sa.bindparam("name"), value=by)
    return ins.on_conflict_do_update(
        index_elements=[t.counters.c.name], set_={"value": t.counters.c.value + by}
    ).returning(t.counters.c.value)


@functools.cache
def _nonce_insert(dialect: str) -> sa.Executable:
    ins = _dialect(dialect).insert(t.nonces).on_conflict_do_nothing()
    return ins.returning(t.nonces.c.terminal_id, t.nonces.c.nonce)


# Sent as executemany: one short statement, prepared once (psycopg pipelines the rows);
# a multi-row INSERT of a whole batch would be re-parsed by the driver every time.
@functools.cache
def _state_upsert(dialect: str, columns: tuple[str, ...]) -> sa.Executable:
    ins = _dialect(dialect).insert(t.terminal_state)
    return ins.on_conflict_do_update(
        index_elements=[t.terminal_state.c.terminal_id],
        set_={c: ins.excluded[c] for c in columns if c != "terminal_id"},
    )


_INSERT_HISTORY = t.heartbeats.insert()


@functools.cache
def _pg_signed(columns: tuple[str, ...]) -> sa.Executable:
    """PostgreSQL: every signed write of a batch in one statement, one round trip.

    The batch arrives as one JSON parameter (``json_to_recordset``: one row per
    request: ``ord``, ``terminal_id``, ``nonce``, ``beat`` (true for a heartbeat) and
    the beat's ``columns``), so the statement's text and its plan stay the same
    whatever the batch's size. Nonces of terminals not revoked are inserted once; the
    latest beat of each terminal whose nonce went in is upserted into terminal_state,
    and joins the history when a HISTORY_FIELDS value changed or ``:cutoff`` passed
    since its last history row. Answers the (terminal_id, nonce) pairs that went in.
    SQLite (in process, no round trips) takes the plainer path of Store._write_all.
    """
    state, hist = t.terminal_state, t.heartbeats
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    batch = sa.cast(sa.bindparam("batch", type_=sa.Text), postgresql.JSON)
    v = (
        sa.func.json_to_recordset(batch)
        .table_valued(sa.column("ord", sa.Integer), sa.column("terminal_id", sa.String),
                      sa.column("nonce", sa.String), sa.column("beat", sa.Boolean),
                      *(sa.column(c, state.c[c].type) for c in columns))
        .render_derived(name="v", with_types=True)
    )  # fmt: skip
    # Each request's terminal looked up by its key, a row at a time: a scalar subquery in
    # WHERE stays a subplan (a join or EXISTS may be planned as a hash join, which reads
    # the whole fleet's terminals for every batch: the plan is made once per connection,
    # when the statistics may say the table is empty, and json_to_recordset is guessed at
    # 100 rows; seen at 0.6 of a 1 ms statement with 2 000 terminals)
    enrolled = (
        sa.select(t.terminals.c.revoked_at.is_(None))
        .where(t.terminals.c.id == v.c.terminal_id)
        .scalar_subquery()
    )
    ok = sa.select(v).where(enrolled).cte("ok")
    fresh = (
        postgresql.insert(t.nonces)
        .from_select(["terminal_id", "nonce", "seen_at"], sa.select(ok.c.terminal_id, ok.c.nonce, now))
        .on_conflict_do_nothing()
        .returning(t.nonces.c.terminal_id, t.nonces.c.nonce)
        .cte("fresh")
    )  # fmt: skip
    latest = (
        sa.select(ok)
        .join(fresh, sa.and_(fresh.c.terminal_id == ok.c.terminal_id, fresh.c.nonce == ok.c.nonce))
        .where(ok.c.beat)
        .distinct(ok.c.terminal_id)
        .order_by(ok.c.terminal_id, ok.c.ord.desc())
        .cte("latest")
    )
    ins = postgresql.insert(state)

    def differs(f: str) -> sa.ColumnElement[bool]:
        if isinstance(state.c[f].type, sa.JSON):  # json keeps its text: compare that
            return sa.cast(state.c[f], sa.Text) != sa.cast(ins.excluded[f], sa.Text)
        return state.c[f].is_distinct_from(ins.excluded[f])

    changed = sa.or_(*(differs(f) for f in HISTORY_FIELDS),
                     state.c.history_at <= sa.bindparam("cutoff", type_=now.type))  # fmt: skip
    upserted = (
        ins.from_select(["terminal_id", "at", *columns, "history_at"],
                        sa.select(latest.c.terminal_id, now, *(latest.c[c] for c in columns), now))
        .on_conflict_do_update(
            index_elements=[state.c.terminal_id],
            set_={"at": ins.excluded.at, **{c: ins.excluded[c] for c in columns},
                  "history_at": sa.case((changed, ins.excluded.at), else_=state.c.history_at)})
        .returning(state.c.terminal_id, (state.c.history_at == state.c.at).label("recorded"))
        .cte("upserted")
    )  # fmt: skip
    recorded = (
        sa.insert(hist)
        .from_select(["terminal_id", "at", *columns],
                     sa.select(latest.c.terminal_id, now, *(latest.c[c] for c in columns))
                     .join(upserted, upserted.c.terminal_id == latest.c.terminal_id)
                     .where(upserted.c.recorded))
        .cte("recorded")
    )  # fmt: skip
    return sa.select(fresh.c.terminal_id, fresh.c.nonce).add_cte(upserted, recorded)


def pg_signed_batch(signed: list[Write], now: dt.datetime,
                    ) -> tuple[sa.Executable, dict[str, Any], dict[tuple[str, str], Write]]:  # fmt: skip
    """The _pg_signed statement for ``signed`` writes, its parameters, and the writes by
    (terminal, nonce); a request twice in the batch is refused here as a replay."""
    first: dict[tuple[str, str], Write] = {}
    rows, columns = [], ()
    for i, w in enumerate(signed):
        key = (w.terminal_id, w.nonce or "")
        if key in first:
            w.error = ApiError(401, "auth.replayed")
            continue
        first[key] = w
        rows.append({**(w.beat or {}), "ord": i, "terminal_id": w.terminal_id,
                     "nonce": w.nonce, "beat": w.beat is not None})  # fmt: skip
        columns = columns or tuple(w.beat or ())
    statement = _pg_signed(columns or ("software_version", "screen", "paper", "devices"))
    params = {"batch": json.dumps(rows), "now": now, "cutoff": now - HISTORY_EVERY}
    return statement, params, first


HANDED_IN_KEPT = dt.timedelta(days=31)  # a slip older than the outbox keeps one is no slip


def handed_in(sub: Submission, now: dt.datetime) -> dt.datetime:
    """When the citizen handed the application in (收件): when the kiosk made it, for a
    pending slip delivered after an outage too (its 收件 is not the delivery's moment), so
    long as the kiosk's clock was plausible (not ahead of ours, not older than a slip is
    kept); else now."""
    made = sub.created_at
    if made.tzinfo is None or not now - HANDED_IN_KEPT <= made <= now:
        return now
    return made


def refuse(refused: dict[tuple[str, str], Write], revoked_at: dict[str, Any]) -> None:
    """Say why each write whose nonce did not go in was refused (``revoked_at`` by terminal)."""
    for (tid, _), w in refused.items():
        if tid not in revoked_at:
            w.error = ApiError(401, "auth.unknown_terminal")
        elif revoked_at[tid] is not None:
            w.error = ApiError(403, "auth.revoked")
        else:
            w.error = ApiError(401, "auth.replayed")


def _first_nonces(signed: list[Write], known: dict[str, Any]) -> dict[tuple[str, str], Write]:
    """The signed writes whose nonce is to be stored, by (terminal, nonce); a revoked
    terminal's and a request twice in the batch are refused here."""
    first: dict[tuple[str, str], Write] = {}
    for w in signed:
        key = (w.terminal_id, w.nonce or "")
        term = known.get(w.terminal_id)
        if term is not None and term.revoked_at is not None:
            w.error = ApiError(403, "auth.revoked")
        elif key in first:  # the same request twice in one batch
            w.error = ApiError(401, "auth.replayed")
        else:
            first[key] = w
    return first


def _refuse_used(first: dict[tuple[str, str], Write], fresh: set[tuple[str, str]]) -> None:
    for key, w in first.items():
        if key not in fresh:
            w.error = ApiError(401, "auth.replayed")


def _beat_rows(beats: list[Write], known: dict[str, Any], now: dt.datetime,
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """(terminal_state rows, heartbeats rows): each terminal's latest beat of the batch, and
    a history row where a HISTORY_FIELDS value changed or HISTORY_EVERY passed."""
    latest = {w.terminal_id: w.beat for w in beats}  # twice in a batch: the later one
    states, history = [], []
    for tid in sorted(latest):
        beat, prev = latest[tid], known.get(tid)
        changed = (
            prev is None
            or prev.history_at is None
            or any(getattr(prev, f) != beat[f] for f in HISTORY_FIELDS)
            or _aware(prev.history_at) <= now - HISTORY_EVERY
        )
        states.append({**beat, "terminal_id": tid, "at": now,
                       "history_at": now if changed else prev.history_at})  # fmt: skip
        if changed:
            history.append({**beat, "terminal_id": tid, "at": now})
    return states, history


# a terminal of the batch as SQLite's busy path reads it: what the shared rules use
_Known = collections.namedtuple("_Known", ("revoked_at", "history_at", *HISTORY_FIELDS))


class SqliteBusy:
    """SQLite: the busy writes of a batch (nonces, heartbeats, submissions) as short
    statements on the DB-API connection, inside the transaction ``transaction`` began
    (BEGIN IMMEDIATE: the write lock is held from the first statement).

    The same rows and the same rules (``_first_nonces``, ``_beat_rows``,
    ``Store._store_submissions``) as the SQLAlchemy path; only the execution differs:
    SQLAlchemy's work per statement and per row (its statement cache, parameters
    processed row by row, result rows) cost more than SQLite's own on the paths every
    terminal takes every 30 s and every citizen's submission takes. Values go through
    the columns' own bind and result processors, so what is stored is what SQLAlchemy
    stores; a driver error is raised as SQLAlchemy's (``cursor``).
    """

    def __init__(self, dialect: sa.Dialect) -> None:
        self.dialect = dialect
        self._stamp = self._impl(t.nonces.c.seen_at).bind_processor(dialect)
        self._read_stamp = self._impl(t.terminal_state.c.history_at).result_processor(dialect, None)
        self._history = tuple(
            self._impl(t.terminal_state.c[f]).result_processor(dialect, None)
            for f in HISTORY_FIELDS
        )
        self._outcome = self._impl(t.applications.c.outcome).result_processor(dialect, None)
        self._sql: dict[Any, str] = {}
        self._binds: dict[tuple[str, ...], tuple[tuple[Any, bool], ...]] = {}

    def _impl(self, column: sa.Column) -> sa.types.TypeEngine:
        return column.type.dialect_impl(self.dialect)  # the dialect's own type: its processors

    @staticmethod
    @contextlib.contextmanager
    def cursor(conn: sa.Connection) -> Iterator[Any]:
        """A DB-API cursor in ``conn``'s transaction; the driver's errors are raised as
        SQLAlchemy's (so an IntegrityError is retried as on the other path)."""
        cur = conn.connection.dbapi_connection.cursor()
        try:
            yield cur
        except sqlite3.Error as err:
            raise sa.exc.DBAPIError.instance(None, None, err, sqlite3.Error) from err
        finally:
            cur.close()

    @classmethod
    @contextlib.contextmanager
    def transaction(cls, conn: sa.Connection) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT (rolled back on any error) on ``conn``'s DB-API
        connection, for a batch whose statements all go through ``cursor``: what
        ``conn.begin()`` does (the engine's begin event issues the same BEGIN IMMEDIATE),
        without SQLAlchemy's transaction object, events and result per batch. The commit
        is the driver's, with the engine's pragmas (synchronous=FULL: fsynced)."""
        dbapi = conn.connection.dbapi_connection
        with cls.cursor(conn) as cur:
            cur.execute("BEGIN IMMEDIATE")
        try:
            yield
            with cls.cursor(conn):
                dbapi.commit()
        except BaseException:
            if dbapi.in_transaction:
                with cls.cursor(conn):
                    dbapi.rollback()
            raise

    def terminals(self, cur: Any, ids: list[str]) -> dict[str, _Known]:
        """The batch's terminals: revoked or not, and their latest beat's history fields."""
        key = ("terminals", len(ids))
        sql = self._sql.get(key)
        if sql is None:
            fields = ", ".join(f"s.{f}" for f in HISTORY_FIELDS)
            sql = self._sql[key] = (
                f"SELECT t.id, t.revoked_at, s.history_at, {fields} FROM terminals AS t "
                "LEFT OUTER JOIN terminal_state AS s ON s.terminal_id = t.id "
                f"WHERE t.id IN ({', '.join('?' * len(ids))})"
            )
        known = {}
        stamp, history = self._read_stamp, self._history
        for tid, revoked_at, history_at, *fields in cur.execute(sql, ids):
            if history_at is not None:  # no state yet: the fields are NULL and unused
                history_at = stamp(history_at) if stamp else history_at
                fields = [p(v) if p else v for p, v in zip(history, fields, strict=True)]
            known[tid] = _Known(revoked_at, history_at, *fields)
        return known

    def nonces(self, cur: Any, keys: list[tuple[str, str]], now: dt.datetime,
               ) -> set[tuple[str, str]]:  # fmt: skip
        """Insert the (terminal, nonce) pairs once; those that went in."""
        stamp = self._stamp(now) if self._stamp else now
        key = ("nonces", len(keys))
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = (
                "INSERT INTO nonces (terminal_id, nonce, seen_at) VALUES "
                + ", ".join(["(?, ?, ?)"] * len(keys))
                + " ON CONFLICT DO NOTHING RETURNING terminal_id, nonce"
            )
        return set(cur.execute(sql, [v for tid, nonce in keys for v in (tid, nonce, stamp)]))

    def stored(self, cur: Any, keys: list[str]) -> dict[str, tuple[str, Any, str]]:
        """Submissions already stored under ``keys``: key → (body hash, outcome dict,
        terminal)."""
        key = ("stored", len(keys))
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = (
                "SELECT s.key, s.body_hash, a.outcome, s.terminal_id FROM submissions AS s "
                "JOIN applications AS a ON a.submission_key = s.key "
                f"WHERE s.key IN ({', '.join('?' * len(keys))})"
            )
        read = self._outcome or (lambda v: v)
        return {k: (digest, read(outcome), terminal)
                for k, digest, outcome, terminal in cur.execute(sql, keys)}  # fmt: skip

    def counter(self, cur: Any, name: str, by: int) -> int:
        """The counter after taking ``by`` numbers (as Store._next)."""
        sql = (
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
            "DO UPDATE SET value = counters.value + ? RETURNING value"
        )
        return int(cur.execute(sql, (name, by, by)).fetchone()[0])

    def insert(self, cur: Any, table: sa.Table, rows: list[dict[str, Any]],
               upsert_on: str = "") -> None:  # fmt: skip
        """Insert ``rows`` (each with the same keys, column names); with ``upsert_on``, a row
        whose key is there already replaces its other columns."""
        columns = tuple(rows[0])
        key = (table.name, upsert_on, *columns)
        sql = self._sql.get(key)
        if sql is None:
            for c in columns:  # names come from our code, never from a request; still:
                if c not in table.c:
                    raise ValueError(f"{table.name} has no column {c!r}")
            sql = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            if upsert_on:
                kept = ", ".join(f"{c} = excluded.{c}" for c in columns if c != upsert_on)
                sql += f" ON CONFLICT ({upsert_on}) DO UPDATE SET {kept}"
            self._sql[key] = sql
            self._binds[key] = tuple(
                (self._impl(table.c[c]).bind_processor(self.dialect),
                 isinstance(table.c[c].type, sa.DateTime))
                for c in columns
            )  # fmt: skip
        # column by column: a processor runs over a column's values at C speed, and a
        # timestamp the whole batch shares (``now``) is formatted once, not once a row
        values = []
        for c, (p, shared) in zip(columns, self._binds[key], strict=True):
            col = [r[c] for r in rows]
            if p is not None:
                if shared and col.count(col[0]) == len(col):
                    col = [p(col[0])] * len(col)
                else:
                    col = list(map(p, col))
            values.append(col)
        cur.executemany(sql, zip(*values, strict=True))


class Store:
    def __init__(self, engine: sa.Engine, box: SecretBox | None = None):
        """``box`` seals new terminal secrets and opens stored ones (enrolment, signatures)."""
        self.engine = engine
        self.box = box
        self._busy = SqliteBusy(engine.dialect) if engine.dialect.name == "sqlite" else None

    # -- counters -------------------------------------------------------------

    def _next(self, conn: sa.Connection, name: str, by: int = 1) -> int:
        """The counter after taking ``by`` numbers (they end at the value returned).

        One upsert: the row is created or advanced, and stays locked until commit."""
        step = _counter_step(conn.dialect.name)
        return int(conn.execute(step, {"name": name, "by": by}).scalar_one())

    # -- the group transaction ------------------------------------------------

    def write_batch(self, writes: list[Write], conn: sa.Connection | None = None) -> None:
        """Store every write in one transaction; each gets its ``result`` or its ``error``.

        ``conn``: a connection to use (central/writes.py keeps one open: no pool
        checkout, no pre-ping round trip per batch); else one from the pool.

        Order, the same in every process so that two batches wait rather than
        deadlock: nonces (revoked terminals refused), heartbeats by terminal id,
        then submissions behind the counter row. A request's own refusal (replayed,
        revoked, a reused key) is found before it writes anything, so no savepoints;
        a submission key stored by another process meanwhile fails the transaction,
        which runs again (and then finds that key stored).

        :raises sqlalchemy.exc.SQLAlchemyError: the transaction failed as a whole.
        """
        if conn is None:
            with self.engine.connect() as own:
                return self.write_batch(writes, own)
        for attempt in range(3):
            for w in writes:
                w.result = w.error = None
            try:
                # SQLite: every statement of the batch is SqliteBusy's, and so is the transaction
                with conn.begin() if self._busy is None else self._busy.transaction(conn):
                    self._write_all(conn, writes, _now())
                return
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise

    def _write_all(self, conn: sa.Connection, writes: list[Write], now: dt.datetime) -> None:
        signed = [w for w in writes if w.nonce is not None]
        rest = writes  # the nonces and beats still to store
        if conn.dialect.name == "postgresql" and signed:
            self._pg_signed(conn, signed, now)
            rest = [w for w in writes if w.nonce is None]
        ids = sorted({w.terminal_id for w in rest if w.nonce is not None or w.beat is not None})
        if ids and self._busy is not None:
            self._sqlite_busy(conn, rest, ids, now)
        elif ids:
            known = {r.id: r for r in conn.execute(_TERMINALS, {"ids": ids})}
            first = _first_nonces([w for w in rest if w.nonce is not None], known)
            if first:
                rows = [{"terminal_id": k[0], "nonce": k[1], "seen_at": now} for k in sorted(first)]
                fresh = {tuple(r) for r in conn.execute(_nonce_insert(conn.dialect.name), rows)}
                _refuse_used(first, fresh)
            beats = [w for w in rest if w.beat is not None and w.error is None]
            if beats:
                states, history = _beat_rows(beats, known, now)
                conn.execute(_state_upsert(conn.dialect.name, tuple(states[0])), states)
                if history:
                    conn.execute(_INSERT_HISTORY, history)
        submissions = [w for w in writes if w.submission is not None and w.error is None]
        if submissions:
            self._store_submissions(conn, submissions, now)

    def _sqlite_busy(self, conn: sa.Connection, rest: list[Write], ids: list[str],
                     now: dt.datetime) -> None:  # fmt: skip
        """SQLite: the batch's nonces and beats on the DB-API connection (SqliteBusy)."""
        busy = self._busy
        with busy.cursor(conn) as cur:
            known = busy.terminals(cur, ids)
            first = _first_nonces([w for w in rest if w.nonce is not None], known)
            if first:
                _refuse_used(first, busy.nonces(cur, sorted(first), now))
            beats = [w for w in rest if w.beat is not None and w.error is None]
            if beats:
                states, history = _beat_rows(beats, known, now)
                busy.insert(cur, t.terminal_state, states, upsert_on="terminal_id")
                if history:
                    busy.insert(cur, t.heartbeats, history)

    def _pg_signed(self, conn: sa.Connection, signed: list[Write], now: dt.datetime) -> None:
        """PostgreSQL: the signed writes' nonces and beats in one statement (_pg_signed)."""
        statement, params, first = pg_signed_batch(signed, now)
        fresh = {tuple(r) for r in conn.execute(statement, params)}
        refused = {k: w for k, w in first.items() if k not in fresh}
        if refused:  # revoked, replayed, or gone: say which
            ids = sorted({k[0] for k in refused})
            refuse(refused, {r.id: r.revoked_at for r in conn.execute(_TERMINALS, {"ids": ids})})

    # -- submissions ----------------------------------------------------------

    def submit(self, sub: Submission, body_hash: str, prefix: str,
               decide: Callable[[str, dt.date], Outcome]) -> tuple[Outcome, bool]:  # fmt: skip
        """Store ``sub`` once and return (its outcome, whether it was new).

        A replay of the same key returns the stored outcome; the same key with
        another body is a 409. ``decide(number, today)`` builds the outcome.
        """
        w = Write(sub.terminal_id, submission=(sub, body_hash, prefix, decide, None))
        self.write_batch([w])
        if w.error is not None:
            raise w.error
        return w.result[0], w.result[1]

    def _store_submissions(self, conn: sa.Connection, writes: list[Write],
                           now: dt.datetime) -> None:  # fmt: skip
        """Store each new submission once, numbered in batch order; a replay gets the stored
        outcome, a key reused for another body a 409 (nothing written for it).

        :raises IntegrityError: another transaction stored one of the keys meanwhile.
        """
        keys = sorted({w.submission[0].key for w in writes})
        if self._busy is not None:  # SQLite: on the DB-API connection (SqliteBusy)
            busy = self._busy
            with busy.cursor(conn) as cur:
                self._new_submissions(writes, now, busy.stored(cur, keys),
                                      partial(busy.counter, cur), partial(busy.insert, cur))  # fmt: skip
            return
        stored = {r.key: (r.body_hash, r.outcome, r.terminal_id)
                  for r in conn.execute(_STORED, {"keys": keys})}  # fmt: skip
        self._new_submissions(writes, now, stored, partial(self._next, conn),
                              lambda table, rows: conn.execute(_INSERTS[table], rows))  # fmt: skip

    def _new_submissions(self, writes: list[Write], now: dt.datetime,
                         stored: dict[str, tuple[str, Any, str]], take: Callable[[str, int], int],
                         insert: Callable[[sa.Table, list[dict[str, Any]]], Any]) -> None:  # fmt: skip
        """_store_submissions's rules, given what is ``stored`` already, a way to ``take``
        numbers from a counter and to ``insert`` rows."""
        new: dict[str, Write] = {}  # by key, in batch order
        again: list[Write] = []  # a key that comes twice in this batch
        for w in writes:
            sub, digest = w.submission[0], w.submission[1]
            if sub.key in stored:  # a replay
                stored_hash, data, stored_terminal = stored[sub.key]
                sent = w.sent if w.sent is not None else (w.submission[4] or sub.to_dict())
                if not same_body(stored_hash, stored_terminal, digest, sent):
                    w.error = ApiError(409, "submission.key_reused", "key")
                else:
                    w.result = (Outcome.from_dict(data), False, data)
            elif sub.key in new:
                again.append(w)
            else:
                new[sub.key] = w
        if new:
            today = now.astimezone(CHINA).date()
            # The counter row before any submission row: held to the commit, it queues the
            # storing transactions of every process rather than let them deadlock over keys.
            last = take(f"acceptance:{today:%Y%m%d}", len(new))
            rows, apps, stages = [], [], []
            for seq, w in enumerate(new.values(), start=last - len(new) + 1):
                sub, body_hash, prefix, decide, body = w.submission
                number = f"{prefix}{today:%Y%m%d}{seq:05d}"
                outcome = decide(number, today)
                data = outcome.to_dict()
                kept, applicant = sealed_body(self._sealing_box(), sub.key,
                                              sub.to_dict() if body is None else body)  # fmt: skip
                rows.append({"key": sub.key, "body_hash": body_hash, "terminal_id": sub.terminal_id,
                             "accepting_point": sub.accepting_point, "received_at": now,
                             "local_number": sub.local_number, "body": kept,
                             "applicant": applicant})  # fmt: skip
                apps.append({"number": number, "submission_key": sub.key, "updated_at": now,
                             "kind": outcome.kind.value, "stage": outcome.stage.value,
                             "outcome": data})  # fmt: skip
                stages += [
                    {"number": number, "stage": Stage.RECEIVED.value, "kind": "accepted", "note": "",
                     "at": handed_in(sub, now)},
                    {"number": number, "stage": outcome.stage.value, "kind": outcome.kind.value, "note": "", "at": now},
                ]  # fmt: skip
                w.result = (outcome, True, data)
            insert(t.submissions, rows)
            insert(t.applications, apps)
            insert(t.stages, stages)
        for w in again:
            first = new[w.submission[0].key]
            if first.submission[1] != w.submission[1]:
                w.error = ApiError(409, "submission.key_reused", "key")
            else:
                w.result = (first.result[0], False, first.result[2])

    def _sealing_box(self) -> SecretBox:
        if self.box is None:
            raise RuntimeError("Store needs a SecretBox to store submissions (sealed at rest)")
        return self.box

    def stored_outcome(self, key: str, sent: dict[str, Any]) -> dict[str, Any] | None:
        """The outcome already given to the submission stored under ``key`` with this very
        body (a replay: ``same_body``), as the platform answered it; None when there is none."""
        with reader(self.engine).connect() as conn:
            row = conn.execute(_STORED, {"keys": [key]}).first()
        if row is None or not same_body(row.body_hash, row.terminal_id, body_hash(sent), sent):
            return None
        return row.outcome

    def submission_body(self, key: str) -> dict[str, Any] | None:
        """The body of the submission stored under ``key``, opened (None: no such key)."""
        with reader(self.engine).connect() as conn:
            kept = conn.execute(sa.select(t.submissions.c.body)
                                .where(t.submissions.c.key == key)).scalar()  # fmt: skip
        return None if kept is None else open_body(self._sealing_box(), key, kept)

    def count_submissions(self, key: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(t.submissions)
        if key is not None:
            q = q.where(t.submissions.c.key == key)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    # -- progress and the office ----------------------------------------------

    def _application(self, conn: sa.Connection, number: str, lock: bool = False):
        q = sa.select(t.applications).where(
            sa.or_(
                t.applications.c.number == number,
                t.applications.c.submission_key.in_(
                    sa.select(t.submissions.c.key).where(
                        t.submissions.c.local_number == number, t.submissions.c.local_number != ""
                    )
                ),
            )
        )
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise ApiError(404, "application.not_found")
        return row

    def progress(self, number: str) -> Progress:
        """By acceptance number or by the pending slip's local number.

        :raises ApiError: 404 when there is no such application.
        """
        with reader(self.engine).connect() as conn:  # a read: never the SQLite write lock
            return self._progress(conn, number)

    def tracked(self, number: str) -> tuple[Progress, str]:
        """``progress(number)`` and the terminal that sent the application (whose secret
        the code in a receipt's tracking QR is made with).

        :raises ApiError: 404 when there is no such application.
        """
        with reader(self.engine).connect() as conn:
            progress = self._progress(conn, number)
            terminal = conn.execute(sa.select(t.submissions.c.terminal_id).where(
                t.submissions.c.key == progress.outcome.submission_key)).scalar()  # fmt: skip
        return progress, terminal or ""

    def note_lookup(self, terminal_id: str, kind: str, id_number: str,
                    window: dt.timedelta) -> int:  # fmt: skip
        """Record that ``terminal_id`` looked up ``kind`` of the citizen with ``id_number``
        (by the keyed hash of it); how many lookups it made within ``window`` so far, this
        one included."""
        now = _now()
        row = {"terminal_id": terminal_id, "kind": kind, "at": now,
               "applicant": self._sealing_box().blind(id_number.strip().upper())}  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(t.personal_lookups.insert().values(**row))
            return conn.execute(sa.select(sa.func.count()).select_from(t.personal_lookups).where(
                t.personal_lookups.c.terminal_id == terminal_id,
                t.personal_lookups.c.at > now - window)).scalar_one()  # fmt: skip

    def _progress(self, conn: sa.Connection, number: str) -> Progress:
        app = self._application(conn, number)
        rows = conn.execute(
            sa.select(t.stages).where(t.stages.c.number == app.number).order_by(t.stages.c.id)
        ).all()
        history = tuple(
            StageEvent(Stage(r.stage), OutcomeKind(r.kind), _aware(r.at), r.note) for r in rows
        )
        return Progress(Outcome.from_dict(app.outcome), history)

    def applications_of(self, id_number: str, limit: int = APPLICANTS_LISTED) -> list[Progress]:
        """The applications whose applicant has ``id_number``, the newest first (the
        caller checked that the citizen's card is on the terminal)."""
        # by every key's hash: while a new key is rotated in, rows not sealed again yet
        # still carry the old key's (central/keys.py)
        applicant = self._sealing_box().blinds(id_number.strip().upper())
        q = (
            sa.select(t.applications.c.number)
            .join(t.submissions, t.submissions.c.key == t.applications.c.submission_key)
            .where(t.submissions.c.applicant.in_(applicant))
            .order_by(t.submissions.c.received_at.desc(), t.submissions.c.id.desc())
            .limit(limit)
        )
        with reader(self.engine).connect() as conn:  # one read, one snapshot of them all
            return [self._progress(conn, n) for n in conn.execute(q).scalars().all()]

    def _change(self, number: str, change: Callable[[Outcome], tuple[Outcome, str]]) -> Progress:
        now = _now()
        with self.engine.begin() as conn:
            app = self._application(conn, number, lock=True)
            outcome, note = change(Outcome.from_dict(app.outcome))
            conn.execute(
                t.applications.update().where(t.applications.c.number == app.number).values(
                    kind=outcome.kind.value, stage=outcome.stage.value,
                    outcome=outcome.to_dict(), updated_at=now))  # fmt: skip
            conn.execute(t.stages.insert().values(
                number=app.number, stage=outcome.stage.value, kind=outcome.kind.value,
                note=note, at=now))  # fmt: skip
        return self.progress(app.number)

    def advance(self, number: str, note: str = "") -> Progress:
        """Move an accepted application to its next stage.

        :raises ApiError: 404 unknown; 409 refused, waiting for materials, or archived.
        """

        def step(o: Outcome) -> tuple[Outcome, str]:
            nxt = o.stage.next()
            if o.kind is not OutcomeKind.ACCEPTED or nxt is None:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, stage=nxt), note

        return self._change(number, step)

    def needs_more(self, number: str, missing: list[str], note: str = "") -> Progress:
        """Issue a correction notice (补齐补正) listing everything missing."""

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is OutcomeKind.REFUSED or o.stage is Stage.ARCHIVED:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, kind=OutcomeKind.NEEDS_MORE, missing=tuple(missing)), note

        return self._change(number, step)

    def resume(self, number: str, note: str = "",
               accept: Callable[[Outcome, Submission, str, dt.date], Outcome] | None = None,
               ) -> Progress:  # fmt: skip
        """The missing materials arrived: the application is accepted again.

        One taken in with a correction notice and never accepted (收件 only: a pending
        slip the catalog no longer took as it was) is accepted (受理) now, by ``accept``
        (the notice, the submission, its number, today), its promise counted from today.

        :raises ApiError: 404 unknown; 409 no notice to resume, or one never accepted and
            no ``accept`` (or no submission kept) to accept it by.
        """
        body = None
        if accept is not None:
            o = self.progress(number).outcome
            if o.kind is OutcomeKind.NEEDS_MORE and o.stage is Stage.RECEIVED:
                body = self.submission_body(o.submission_key)

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is not OutcomeKind.NEEDS_MORE:
                raise ApiError(409, "application.wrong_state")
            if o.stage is Stage.RECEIVED:  # never accepted: accepted now, or not at all
                if accept is None or body is None:
                    raise ApiError(409, "application.wrong_state")
                today = _now().astimezone(CHINA).date()
                done = accept(o, Submission.from_dict(body), o.acceptance_number, today)
                return _replace(done, accepting_point=o.accepting_point, local_number=o.local_number), note
            return _replace(o, kind=OutcomeKind.ACCEPTED, missing=()), note

        return self._change(number, step)

    def refuse(self, number: str, reason: str) -> Progress:
        """Refuse (不予受理) with the reason the citizen is told."""

        def step(o: Outcome) -> tuple[Outcome, str]:
            if o.kind is OutcomeKind.REFUSED or o.stage is Stage.ARCHIVED:
                raise ApiError(409, "application.wrong_state")
            return _replace(o, kind=OutcomeKind.REFUSED, reason=reason), reason

        return self._change(number, step)

    # -- terminals ------------------------------------------------------------

    def add_code(self, service_point: str, ttl: dt.timedelta = dt.timedelta(hours=24)) -> str:
        """A one-time enrolment code for a terminal at ``service_point``."""
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(t.enrolment_codes.insert().values(
                code_hash=code_hash(code), service_point=service_point,
                created_at=now, expires_at=now + ttl))  # fmt: skip
        return code

    def enrol(self, code: str) -> dict[str, str]:
        """Use a code once: a new terminal id and its secret.

        :raises ApiError: 403 when the code is unknown, used or expired.
        """
        if self.box is None:
            raise RuntimeError("Store needs a SecretBox to enrol terminals")
        now = _now()
        terminal_id = f"T{secrets.token_hex(5).upper()}"
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.enrolment_codes).where(t.enrolment_codes.c.code_hash == code_hash(code))
            ).first()
            if row is None or row.used_at is not None or _aware(row.expires_at) < now:
                raise ApiError(403, "enrol.bad_code")
            used = conn.execute(
                t.enrolment_codes.update()
                .where(t.enrolment_codes.c.code_hash == row.code_hash, t.enrolment_codes.c.used_at.is_(None))
                .values(used_at=now, terminal_id=terminal_id)
            )  # fmt: skip
            if used.rowcount != 1:  # another process used it a moment ago
                raise ApiError(403, "enrol.bad_code")
            conn.execute(t.terminals.insert().values(
                id=terminal_id, service_point=row.service_point, enrolled_at=now,
                secret=self.box.seal(secret, terminal_id)))  # fmt: skip
        return {"terminal_id": terminal_id, "secret": secret, "service_point": row.service_point}

    def terminal(self, terminal_id: str) -> Any:
        """The terminal's row (its secret sealed) with ``last_seen_at``; None when unknown."""
        term, state = t.terminals, t.terminal_state
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(term, state.c.at.label("last_seen_at"))
                .select_from(term.outerjoin(state, state.c.terminal_id == term.c.id))
                .where(term.c.id == terminal_id)
            ).first()

    def terminal_identity(self, terminal_id: str) -> tuple[str, str] | None:
        """The opened secret of a terminal (revoked or not) and the service point it was
        enrolled at; None when unknown.

        :raises SealError: the secret does not open with this platform's key.
        """
        if self.box is None:
            raise RuntimeError("Store needs a SecretBox to open terminal secrets")
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.terminals.c.secret, t.terminals.c.service_point)
                .where(t.terminals.c.id == terminal_id)
            ).first()
        return None if row is None else (self.box.open(row.secret, terminal_id), row.service_point)

    def check_key(self) -> None:
        """Refuse a platform key that does not open the secrets already stored.

        :raises SealError: (one sealed with another key, e.g. a fleet without one CENTRAL_SECRET_KEY).
        """
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.terminals.c.id, t.terminals.c.secret)
                .where(t.terminals.c.secret.startswith(PREFIX, autoescape=True)).limit(1)
            ).first()  # fmt: skip
        if row is not None and self.box is not None:
            self.box.open(row.secret, row.id)

    def revoke(self, terminal_id: str) -> None:
        """:raises ApiError: 404 unknown terminal."""
        with self.engine.begin() as conn:
            done = conn.execute(
                t.terminals.update()
                .where(t.terminals.c.id == terminal_id)
                .values(revoked_at=_now())
            )
            if done.rowcount != 1:
                raise ApiError(404, "request.not_found")

    def prune_nonces(self, keep: dt.timedelta = NONCE_KEEP, conn: sa.Connection | None = None,
                     window: dt.timedelta | None = None, before: dt.datetime | None = None,
                     ) -> int:  # fmt: skip
        """Forget nonces older than ``keep`` (their requests' timestamps are stale: a replay
        is refused as such) or seen ``before`` a given time, only the oldest ``window`` of
        them; how many. One transaction (on ``conn``, else one of the pool's): a second of a
        fleet's nonces holds SQLite's write lock for a few milliseconds, thirty seconds of
        them for a third of a second."""
        if conn is None:
            with self.engine.connect() as own:
                return self.prune_nonces(keep, own, window, before)
        cut = before if before is not None else _now() - keep
        with conn.begin():
            if window is not None:
                oldest = conn.execute(sa.select(sa.func.min(t.nonces.c.seen_at))).scalar()
                if oldest is None:
                    return 0
                cut = min(cut, _aware(oldest) + window)
            return conn.execute(t.nonces.delete().where(t.nonces.c.seen_at < cut)).rowcount

    def heartbeat(self, terminal_id: str, beat: dict[str, Any]) -> None:
        """Store one heartbeat (unsigned; the server batches signed ones through write_batch)."""
        self.write_batch([Write(terminal_id, beat=beat)])

    def last_heartbeat(self, terminal_id: str) -> dict[str, Any] | None:
        """The terminal's latest heartbeat (``at``: when it arrived); None before the first."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.terminal_state).where(t.terminal_state.c.terminal_id == terminal_id)
            ).first()
        return dict(row._mapping) if row else None


def _replace(o: Outcome, **changes: Any) -> Outcome:
    from dataclasses import replace

    return replace(o, **changes)
