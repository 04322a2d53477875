"""Group commit: the busy writes of concurrent requests share one transaction.

Handlers ``await`` a write (a signed request's nonce, a heartbeat, a submission);
one task hands everything queued so far to ``Store.write_batch`` in a thread of
its own (on PostgreSQL, a batch of nonces and heartbeats only goes as one
statement on an async connection instead: ``PgSignedWriter``; on SQLite, the
processes serving one file take turns through a lock file first: ``writers_lock``),
and answers each request only after that transaction has committed.
While one batch commits the next one gathers, so batches grow with the load and a
lone request waits for nothing but its own commit. Each request still gets its
own answer: a replayed nonce, a revoked terminal or a reused submission key fails
that request alone.

The writer's housekeeping keeps out of the batches' way: stale nonces are pruned a
second's worth a transaction, queued in the writer thread between batches (``prune``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import sqlalchemy as sa
from aiohttp import web

from central.db import PG_CONNECT, StatementDeadline, log_failure, make_engine
from central.store import NONCE_KEEP, Store, Write, pg_signed_batch, refuse
from kiosk.outcomes import Submission

log = logging.getLogger("central.writes")
MAX_BATCH = 256
PRUNE_EVERY = 1.0  # seconds between sweeps of nonces too old to matter
PRUNE_AFTER_FAILURE = 15.0  # ... and after one that failed (the database away)
# the nonces of this long a pruning transaction: with the batches, in the writer thread, so
# each holds SQLite's write lock for milliseconds between two batches (a sweep of 30 s of a
# fleet's nonces at once held it a third of a second, and every heartbeat in flight waited)
PRUNE_WINDOW = dt.timedelta(seconds=1)
IDLE_RECONNECT = 30.0  # seconds: a connection quiet this long is made again


class GroupWriter:
    """Queue writes for ``store``; ``start()`` inside the running loop, ``close()`` at the end."""

    def __init__(self, store: Store, nonce_keep: dt.timedelta = NONCE_KEEP) -> None:
        self.store = store
        self.nonce_keep = nonce_keep
        self._queue: list[tuple[Write, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        self._conn: sa.Connection | None = None  # used in that thread only
        # PostgreSQL: the writer's connection is its own, made afresh when lost (bounded
        # by libpq's connect_timeout), never a pooled one checked by a ping that nothing
        # bounds, which a network dropping packets would leave waiting with every write
        # queued behind it
        pg = store.engine.dialect.name == "postgresql"
        self._engine = (make_engine(store.engine.url.render_as_string(hide_password=False),
                                    pooled=False) if pg else store.engine)  # fmt: skip
        self._used_at = 0.0
        self._task: asyncio.Task | None = None
        self._pruner: asyncio.Task | None = None
        self._signed = PgSignedWriter(store.engine) if pg else None
        self._lock_path = writers_lock(store.engine)
        self._lock_fd: int | None = None  # opened in the writer thread
        # PostgreSQL: a batch or a prune that the network leaves unanswered is given up in
        # seconds, not waited for by every write queued behind it (StatementDeadline)
        self._deadline = StatementDeadline(threaded=True) if pg else None
        # how well requests shared transactions, for the log
        self.batches = self.writes = 0
        self.busy = 0.0  # seconds spent in transactions

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")
        self._pruner = asyncio.create_task(self._prune(), name="nonce-pruner")

    async def close(self) -> None:
        for task in (self._pruner, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for _, fut in self._queue:
            if not fut.done():
                fut.set_exception(ConnectionAbortedError("the platform is stopping"))
        self._queue.clear()
        if self._signed is not None:
            await self._signed.close()
        self._thread.submit(self._disconnect).result()
        self._thread.shutdown(wait=True)
        if self._engine is not self.store.engine:
            self._engine.dispose()
        if self.batches:
            log.info("group commit: %d writes in %d transactions (%.1f each, %.1f ms each)",
                     self.writes, self.batches, self.writes / self.batches,
                     1000 * self.busy / self.batches)  # fmt: skip

    async def write(self, w: Write) -> Write:
        """``w`` once its batch has committed (look at ``w.error`` and ``w.result``).

        :raises sqlalchemy.exc.SQLAlchemyError: the batch's transaction failed.
        """
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((w, fut))
        self._wake.set()
        await fut
        return w

    async def nonce(self, terminal_id: str, nonce: str) -> None:
        """Use a signed request's nonce once.

        :raises ApiError: 401 replayed, 403 the terminal is revoked.
        """
        w = await self.write(Write(terminal_id, nonce=nonce))
        if w.error is not None:
            raise w.error

    async def heartbeat(self, terminal_id: str, beat: dict[str, Any], nonce: str | None) -> None:
        """Store a heartbeat (and the request's nonce, when signed).

        :raises ApiError: 401 replayed, 403 the terminal is revoked.
        """
        w = await self.write(Write(terminal_id, nonce=nonce, beat=beat))
        if w.error is not None:
            raise w.error

    async def submit(self, sub: Submission, body_hash: str, prefix: str, decide,
                     nonce: str | None, body: dict[str, Any] | None = None,
                     sent: dict[str, Any] | None = None,
                     ) -> tuple[Any, bool, dict[str, Any]]:  # fmt: skip
        """(Outcome, whether new, the outcome as a dict) once it is committed; ``body`` is
        ``sub.to_dict()`` when the caller has it already; ``sent``, the submission as the
        terminal sent it (``Write.sent``: ``body`` may have had its point put right).

        :raises ApiError: 401 replayed, 403 revoked, 409 the key was used for another body.
        """
        w = await self.write(Write(
            sub.terminal_id, nonce=nonce, submission=(sub, body_hash, prefix, decide, body),
            sent=sent))  # fmt: skip
        if w.error is not None:
            raise w.error
        return w.result

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                writes = [w for w, _ in batch]
                self.batches, self.writes = self.batches + 1, self.writes + len(writes)
                began = time.perf_counter()
                try:
                    if self._signed is not None and all(
                        w.nonce is not None and w.submission is None for w in writes
                    ):
                        await self._signed.write(writes)  # heartbeats and nonces: no thread
                    else:
                        await loop.run_in_executor(self._thread, self._write, writes)
                except asyncio.CancelledError:  # stopping: the thread finishes, nobody is told
                    for _, fut in batch:
                        fut.cancel()
                    raise
                except Exception as err:  # the whole transaction failed: every request hears it
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(err)
                else:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_result(None)
                finally:
                    self.busy += time.perf_counter() - began

    async def _prune(self) -> None:
        wait = PRUNE_EVERY
        while True:
            await asyncio.sleep(wait)
            try:
                await self.prune()
                wait = PRUNE_EVERY
            except Exception as err:  # noqa: BLE001 - the driver's, the lock file's too: never stop
                # not again each second: while the database is away every try waits its
                # timeout in the writer thread, ahead of the citizens' submissions
                wait = PRUNE_AFTER_FAILURE
                log_failure(log, f"nonces not pruned (tried again in {wait:.0f} s)", err)

    async def prune(self) -> int:
        """Forget the nonces too old to matter as of now, PRUNE_WINDOW of them a transaction,
        each queued in the writer thread like a batch (so batches go between them); how many.
        The cut-off is fixed for the sweep: nonces going stale meanwhile wait for the next."""
        loop, gone = asyncio.get_running_loop(), 0
        before = dt.datetime.now(dt.UTC) - self.nonce_keep
        while n := await loop.run_in_executor(self._thread, self._prune_window, before):
            gone += n
        return gone

    def _prune_window(self, before: dt.datetime) -> int:
        with self._connection() as conn:
            return self.store.prune_nonces(conn=conn, window=PRUNE_WINDOW, before=before)

    def _write(self, writes: list[Write]) -> None:
        with self._connection() as conn:
            self.store.write_batch(writes, conn)

    @contextlib.contextmanager
    def _connection(self):
        # In the writer thread, the connection it keeps open while busy (no checkout and
        # ping per batch); after a quiet spell, a new one (SQLite: from the pool, whose
        # pre-ping replaces one dropped meanwhile; PostgreSQL: a fresh one). (The prune each
        # second keeps it from being quiet: a dropped connection is then mostly found by a
        # prune, which fails, logged, and leaves the next batch a new connection.)
        if self._conn is not None and time.monotonic() - self._used_at > IDLE_RECONNECT:
            self._disconnect()
        if self._conn is None:
            self._conn = self._engine.connect()
        self._used_at = time.monotonic()
        if self._lock_path is not None:  # SQLite: one group transaction at a time (writers_lock)
            if self._lock_fd is None:
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            if self._deadline is not None:
                self._deadline.arm(self._conn.connection.dbapi_connection)
            try:
                yield self._conn
            finally:
                if self._deadline is not None:
                    self._deadline.disarm()  # before a failed connection is closed below
        except sa.exc.DBAPIError as err:
            if err.connection_invalidated or self._conn.invalidated:
                self._disconnect()  # the next batch connects again
            raise
        finally:
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def writers_lock(engine: sa.Engine) -> str | None:
    """The lock file that queues the group transactions of every process serving one SQLite
    file (``central serve --workers N``); None for PostgreSQL or a database in memory.

    SQLite lets one transaction write at a time and makes the others wait by sleeping and
    trying again (1, 2, 5, 10… ms), so two processes' batches would mostly sleep. Taking
    this lock first (flock, in the writer thread) queues them instead: a batch starts
    the moment the one before it has committed. SQLite's own locking still decides;
    other writers (office actions, enrolment) just wait on it as before.
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writers.lock"


class PgSignedWriter:
    """PostgreSQL: a batch of signed nonces and heartbeats as one statement on an async
    connection of its own (autocommit: the one statement is the transaction).

    No thread hop, no BEGIN and COMMIT round trips: the busiest path of a fleet (every
    terminal every 30 s) costs one round trip per batch. The statement is the store's
    (``central.store.pg_signed_batch``), compiled once per set of heartbeat fields.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.dialect = engine.dialect
        self._conn: psycopg.AsyncConnection | None = None
        self._sql: dict[int, str] = {}
        self._deadline = StatementDeadline(threaded=False)  # fired by the event loop

    async def write(self, writes: list[Write]) -> None:
        """:raises psycopg.Error: the statement failed (a lost connection is made again
        for the next batch)."""
        statement, params, first = pg_signed_batch(writes, dt.datetime.now(dt.UTC))
        sql = self._sql.get(id(statement))  # statements are cached by the store: ids hold
        if sql is None:
            sql = self._sql[id(statement)] = str(statement.compile(dialect=self.dialect))
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, **PG_CONNECT)  # the engine's timeouts
        try:
            # a statement the network leaves unanswered fails in seconds (the batch is
            # answered 503), not never: every write of this process waits behind it
            self._deadline.arm(self._conn)
            try:
                cur = await self._conn.execute(sql, params)
                fresh = {tuple(r) for r in await cur.fetchall()}
                refused = {k: w for k, w in first.items() if k not in fresh}
                if refused:  # revoked, replayed, or gone: say which
                    cur = await self._conn.execute(
                        "SELECT id, revoked_at FROM terminals WHERE id = ANY(%s)",
                        (sorted({k[0] for k in refused}),),
                    )
                    refuse(refused, dict(await cur.fetchall()))
            finally:
                self._deadline.disarm()  # before a failed connection is closed below
        except psycopg.OperationalError:
            await self.close()
            raise

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


WRITES: web.AppKey[GroupWriter] = web.AppKey("group_writer", GroupWriter)
