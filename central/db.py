"""The data layer's plumbing: one engine per process, migrations at start-up.

SQLite (the default) runs in WAL mode with ``synchronous=FULL`` so a commit is
on disk before a citizen is told "accepted"; PostgreSQL (psycopg 3) is the same
code path for a fleet. The database, never process memory, enforces what must
hold across worker processes (unique keys, counters).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

if TYPE_CHECKING:
    from central.sealing import SecretBox

log = logging.getLogger("central.db")
MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: serialises migrations of several processes starting at once on PostgreSQL.
_MIGRATION_LOCK = 7_310_006


# Seconds PostgreSQL is waited for before it is taken as unreachable: a new connection's
# start-up (libpq's connect_timeout: a whole number, at least 2), and the statements of a
# write batch (``StatementDeadline``), which take milliseconds when it answers. Under the
# kiosk's 10 s request timeout: a terminal whose heartbeat meets a network fault is answered
# 503, not left to time out. CENTRAL_DB_TIMEOUT shortens it (the tests of a network fault).
DB_TIMEOUT = max(2, int(float(os.environ.get("CENTRAL_DB_TIMEOUT", "5"))))


# libpq's settings for every connection to PostgreSQL: give up a start-up after DB_TIMEOUT;
# keepalives find a dead idle connection; and data left unacknowledged 10 s (a network
# dropping packets: a pool's check of a connection, any statement) fails the connection
# rather than waiting the ~15 minutes of TCP's retries
PG_CONNECT = {"connect_timeout": DB_TIMEOUT, "keepalives": 1, "keepalives_idle": 30,
              "keepalives_interval": 10, "keepalives_count": 3, "tcp_user_timeout": 10_000}


def _sqlite(url, begin: str, *pragmas: str, **kw) -> sa.Engine:
    """A SQLite engine whose connections run ``pragmas`` and whose transactions start
    with ``begin`` (pysqlite's own transaction handling would defer BEGIN: we issue it).
    Its errors never quote a statement's values (``hide_parameters``): a failed lookup by
    ID number is logged without the number, as on PostgreSQL (``make_engine``)."""
    engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kw)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (*pragmas, "PRAGMA busy_timeout=30000"):
            cur.execute(pragma)
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(begin)

    return engine


def make_engine(url: str, *, pooled: bool = True) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, full fsync and a busy timeout, and
    BEGIN IMMEDIATE, which takes the write lock up front, so two processes never deadlock
    upgrading read locks (and counters stay serial). PostgreSQL ``pooled=False``: each
    connection made afresh (bounded by PG_CONNECT's timeouts), none kept and pinged."""
    if url.startswith("sqlite"):
        return _sqlite(url, "BEGIN IMMEDIATE", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                       "PRAGMA foreign_keys=ON")  # fmt: skip
    # a server that does not answer (packets dropped, not refused) fails a connection in
    # seconds, not libpq's default of never; a dead one is found by the keepalives
    if not pooled:
        return sa.create_engine(url, poolclass=sa.pool.NullPool, hide_parameters=True,
                                connect_args=PG_CONNECT)  # fmt: skip
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                            hide_parameters=True, pool_timeout=10,
                            connect_args=PG_CONNECT)  # fmt: skip


class StatementDeadline:
    """Gives up a PostgreSQL connection whose statements have not been answered in
    ``seconds``: its socket is shut, so that the statement waiting on it fails at once as
    on a lost connection (the request answered 503, the connection replaced by the next).

    Without it a statement sent into a network that drops packets waits for ever: libpq
    has no statement timeout of its own, the keepalives only watch an idle connection,
    and TCP gives up on unacknowledged bytes after some 15 minutes; a server that hangs
    (a frozen disk, a stopped process) is waited for with no end at all. The group-commit
    writer is one queue for every heartbeat, nonce and submission of its process: one such
    statement would stall them all (central/writes.py).

    ``arm(connection)`` before the statements, ``disarm()`` after them (in a ``finally``),
    from one thread or task; the deadline is watched by one thread of its own
    (``threaded``: started with the first batch, for the writer's life; no thread a batch)
    or by the running event loop. Only the socket the connection had when armed is shut,
    never what its descriptor's number was given to after a close meanwhile."""

    def __init__(self, seconds: float = DB_TIMEOUT, *, threaded: bool) -> None:
        self.seconds = seconds
        self.threaded = threaded
        self._cv = threading.Condition()  # guards the two below; the watcher waits on it
        self._armed: tuple[int, tuple[int, int]] | None = None  # (descriptor, its socket's id)
        self._due = 0.0  # time.monotonic() when the armed statements are given up
        self._watcher: threading.Thread | None = None
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, dbapi_conn: psycopg.Connection | psycopg.AsyncConnection) -> None:
        try:
            fileno = dbapi_conn.fileno()
            st = os.fstat(fileno)
        except (OSError, psycopg.Error):  # no socket left: a statement on it fails by itself
            return
        with self._cv:
            self._armed = (fileno, (st.st_dev, st.st_ino))
            self._due = time.monotonic() + self.seconds
            if self.threaded:
                if self._watcher is None:
                    self._watcher = threading.Thread(target=self._watch, daemon=True,
                                                     name="statement-deadline")  # fmt: skip
                    self._watcher.start()
                self._cv.notify()
        if not self.threaded:
            self._timer = asyncio.get_running_loop().call_later(self.seconds, self._fire)

    def disarm(self) -> None:
        with self._cv:
            self._armed = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _watch(self) -> None:
        with self._cv:
            while True:
                if self._armed is None:
                    self._cv.wait()
                elif (left := self._due - time.monotonic()) > 0:
                    self._cv.wait(left)
                else:
                    self._give_up()

    def _fire(self) -> None:
        with self._cv:  # disarm() waits: the connection is not closed while this shuts it
            if self._armed is not None:
                self._give_up()

    def _give_up(self) -> None:
        fileno, ident = self._armed
        self._armed = None
        if _shut(fileno, ident):
            log.warning("PostgreSQL did not answer within %.0f s: its connection is given up "
                        "(a network fault, or the server hangs)", self.seconds)  # fmt: skip


def _shut(fileno: int, ident: tuple[int, int]) -> bool:
    """Shut the socket ``fileno`` both ways if it is still the one ``ident`` names; whether
    it was. The descriptor stays open: its connection closes it (a copy is shut)."""
    try:
        copy = os.dup(fileno)
    except OSError:  # closed meanwhile
        return False
    try:
        st = os.fstat(copy)
        if (st.st_dev, st.st_ino) != ident:
            return False
        with socket.socket(fileno=copy) as sock:
            copy = -1  # the socket object closes it
            sock.shutdown(socket.SHUT_RDWR)
        return True
    except OSError:
        return False
    finally:
        if copy >= 0:
            os.close(copy)


_READERS: weakref.WeakKeyDictionary[sa.Engine, sa.Engine] = weakref.WeakKeyDictionary()


def reader(engine: sa.Engine) -> sa.Engine:
    """An engine for long reads (the dashboard's pages, progress queries) beside
    ``engine``. On SQLite its transactions begin DEFERRED and may only read: in WAL mode
    they then never hold the write lock that ``engine``'s BEGIN IMMEDIATE takes, so
    heartbeats and submissions commit while a page of 2 000 terminals is read. Elsewhere
    it is ``engine`` itself."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # (a database in memory is the engine's own: no second connection sees it)
    found = _READERS.get(engine)
    if found is None:
        # no pool: a connection per read, closed after it, so readers of databases that
        # are gone (tests make many) hold no file open
        found = _READERS.setdefault(engine, _sqlite(engine.url, "BEGIN DEFERRED", "PRAGMA query_only=ON",
                                                    poolclass=sa.pool.NullPool))  # fmt: skip
    return found


def migration_secret_box(what: str) -> SecretBox:
    """In a migration that seals or opens ``what``: the platform key ``migrate`` handed in.

    :raises RuntimeError: none was (the database is refused rather than left half sealed).
    """
    from alembic import op

    box = op.get_context().config.attributes.get("secret_box")
    if box is None:
        raise RuntimeError(
            f"{what} need the platform key to be sealed or opened: run `central "
            "migrate --data-dir DIR` (or set CENTRAL_SECRET_KEY)"
        )
    return box


def migrate(engine: sa.Engine, secret_box: SecretBox | None = None) -> None:
    """Bring the schema to the newest revision (idempotent; safe from several processes).

    ``secret_box`` seals terminal secrets an older database holds in plain text
    (migration 0004); without it such a database is refused.
    """
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["secret_box"] = secret_box
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def database_down(err: BaseException) -> bool:
    """The database unreachable (restarting, a network fault, out of connections) or, on
    SQLite, busy past its timeout: answered 503, which terminals retry (their outbox keeps
    submissions), not a 500 with a traceback a request. A statement that is wrong (a
    missing table) is a defect still."""
    if isinstance(err, sa.exc.DBAPIError) and err.connection_invalidated:
        return True
    if isinstance(err, sa.exc.TimeoutError):  # no pooled connection came free in time
        return True
    cause = getattr(err, "orig", None) or err
    if isinstance(cause, psycopg.Error):
        # by SQLSTATE: no state (the client could not connect), a connection exception, the
        # server shutting down or out of connections; a deadlock, a serialization failure
        # or a statement too big is a defect to see (a traceback), not an outage
        state = cause.sqlstate
        return (state is None or state.startswith("08") or state in PG_DOWN) \
            and isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)  # fmt: skip
    if isinstance(cause, sqlite3.Error):
        # by its result code: busy past the timeout, the disk full or failing, the file not
        # opened; never by the message's words (a column named locked_until is no outage)
        return getattr(cause, "sqlite_errorcode", 0) & 0xFF in SQLITE_DOWN
    return isinstance(err, sa.exc.InterfaceError)


PG_DOWN = {"57P01", "57P02", "57P03", "53300"}  # admin shutdown, crash, cannot connect now, too many
SQLITE_DOWN = {5, 10, 13, 14}  # SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN


def log_failure(logger: logging.Logger, what: str, err: BaseException) -> None:
    """A background task's failure (a sweep, a prune): with its traceback when it is a
    defect; one line when the database is away (an outage is not a bug, and a traceback a
    sweep of it buries the one that is)."""
    if database_down(err):
        cause = getattr(err, "orig", None) or err
        logger.warning("%s: database unavailable (%s)", what, type(cause).__name__)
    else:
        logger.error("%s", what, exc_info=err)
