"""The data layer's plumbing: one engine per process, migrations at start-up.

SQLite (the default) runs in WAL mode with ``synchronous=FULL`` so a commit is
on disk before a citizen is told "accepted"; PostgreSQL (psycopg 3) is the same
code path for a fleet. The database, never process memory, enforces what must
hold across worker processes (unique keys, counters).
"""

from __future__ import annotations

import logging
import sqlite3
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

if TYPE_CHECKING:
    from central.sealing import SecretBox

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: serialises migrations of several processes starting at once on PostgreSQL.
_MIGRATION_LOCK = 7_310_006


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


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, full fsync and a busy timeout, and
    BEGIN IMMEDIATE, which takes the write lock up front, so two processes never deadlock
    upgrading read locks (and counters stay serial)."""
    if url.startswith("sqlite"):
        return _sqlite(url, "BEGIN IMMEDIATE", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                       "PRAGMA foreign_keys=ON")  # fmt: skip
    # a server that does not answer (packets dropped, not refused) fails a connection in
    # seconds, not libpq's default of never; a dead one is found by the keepalives
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                            hide_parameters=True, pool_timeout=10,
                            connect_args={"connect_timeout": 5, "keepalives": 1,
                                          "keepalives_idle": 30, "keepalives_interval": 10,
                                          "keepalives_count": 3})  # fmt: skip


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
