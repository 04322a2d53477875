"""Which database errors are an outage (a 503 the terminals retry, one line in the log) and
which are a defect (a 500 with its traceback): by the driver's own codes, never its words."""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy as sa

from central.db import database_down


def wrapped(err: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT …", {}, err)


def test_sqlite_busy_full_or_failing_is_an_outage_a_wrong_statement_is_not():
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # SQLITE_BUSY, as the driver sets it
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # SQLITE_FULL
    assert database_down(wrapped(busy)) and database_down(wrapped(full))
    # a real mistake in a statement, naming a column whose name holds "locked"
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT)")
    try:
        db.execute("SELECT locked_until FROM users")
    except sqlite3.OperationalError as err:
        wrong = err
    assert not database_down(wrapped(wrong))


def test_postgresql_unreachable_or_shutting_down_is_an_outage_a_deadlock_is_not():
    refused = psycopg.OperationalError("connection failed: Connection refused")  # no SQLSTATE
    assert database_down(wrapped(refused))
    assert database_down(wrapped(psycopg.errors.AdminShutdown()))  # 57P01: a restart
    assert database_down(wrapped(psycopg.errors.TooManyConnections()))  # 53300
    assert not database_down(wrapped(psycopg.errors.DeadlockDetected()))  # 40P01: a defect
    assert not database_down(wrapped(psycopg.errors.UndefinedTable()))
    # and no pooled connection came free in time
    assert database_down(sa.exc.TimeoutError("QueuePool limit reached"))
