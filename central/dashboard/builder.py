"""The terminal page's build in a process of its own, off the serving process's GIL.

Reading, judging and rendering 2 000 terminals is about 100 ms of Python. In a worker
thread of the server it holds the GIL that the same process's heartbeat handlers need,
and their beats wait for it. ``PageBuilder`` runs it in one process beside each server
process (``central serve --workers N``: one each), started with 'spawn' on the first
terminal page: a fresh interpreter, so no event loop, engine or SQLite connection is
inherited, and a server whose page nobody opens starts none. That process opens its own
read-only engine on the database URL once and sends back the rendered page body (1.6 MB
for 2 000 terminals: under a millisecond to pass). It runs at a lower priority (nice 10):
on a busy machine the page waits, not the heartbeats.

A build that fails there (the database, a defect, the process died, or no answer within
``timeout`` s; ``START`` s more for the build that starts the process) raises
``BuildFailed``; the next build tries again, in a new process when the old one is gone.
``close()`` (the app stopping) ends the process; one whose server died without closing
it (killed) ends by itself within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from central.dashboard import remote, views
from central.dashboard.data import HallStore
from central.db import log_failure, make_engine, reader

log = logging.getLogger("central.dashboard")
T = TypeVar("T")
TIMEOUT = 30.0  # seconds; a build takes 0.1–0.3 s: past this its process is taken as stuck
NICE = 10  # the builder yields the CPU to the server (heartbeats) when both want it
CLOSE_WAIT = 5.0  # seconds a build under way may take to finish when the app stops
START = 30.0  # seconds more for a build that first starts its process (a fresh interpreter, at nice 10)


class BuildFailed(Exception):
    """The page could not be built (the cause is chained, and logged once)."""


# -- in the builder process ---------------------------------------------------------------

_ENGINES: dict[str, sa.Engine] = {}


def read_only(url: str) -> sa.Engine:
    """This process's engine for reading ``url``, made once: on SQLite the reader beside a
    writer (``central.db.reader``: DEFERRED, query_only), on PostgreSQL every transaction
    READ ONLY."""
    found = _ENGINES.get(url)
    if found is None:
        if url.startswith("sqlite"):
            found = reader(make_engine(url))
        else:
            found = sa.create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0,
                                     hide_parameters=True,
                                     connect_args={"options": "-c default_transaction_read_only=on"})  # fmt: skip
        found = _ENGINES.setdefault(url, found)
    return found


def terminals_body(url: str, scope: tuple[str, ...] | None, points: dict[str, str],
                   visible: list[str], chosen: str, offline_after: float,
                   catalog_etag: str, unused_after: float = 0) -> str:  # fmt: skip
    """Read, judge and render the terminals in ``scope`` now (blocking: the builder process)."""
    from central.decide import calendar_in_use

    engine, now = read_only(url), dt.datetime.now(dt.UTC)
    hall = HallStore(engine)
    found = hall.terminal_views(scope, now, offline_after, unused_after,
                                calendar_in_use().is_workday)  # fmt: skip
    configs = {(c["scope"], c["scope_id"]): c for c in remote.rows(engine)}
    pushed = {v.terminal_id: remote.effective(configs, v.service_point, v.terminal_id)[0]
              for v in found} if configs else {}  # fmt: skip
    return views.terminals_body(views=found, points=points, visible=visible, chosen=chosen,
                                now=now, offline_after=offline_after, pushed=pushed,
                                catalog_etag=catalog_etag,
                                since=hall.problems_since(scope),
                                places=hall.places(scope))  # fmt: skip


def terminal_views(url: str, now: dt.datetime, offline_after: float) -> list:
    """Every terminal judged as of ``now``, for the alert sweep (blocking: the builder
    process; the sweep writes what changed in the server)."""
    return HallStore(read_only(url)).terminal_views(None, now, offline_after)


def _start(url: str, server: int, pid: ctypes.c_int) -> None:
    """The builder process's start: its pid told, its engine, and its end should its server die."""
    pid.value = os.getpid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the server ends us
    os.nice(NICE)
    read_only(url)
    threading.Thread(target=_end_when_orphaned, args=(server,), daemon=True).start()


def _end_when_orphaned(server: int) -> None:
    # A server killed (or gone by os._exit) never closes the pool, and this process would
    # wait for work for ever (it holds both ends of its call queue): it ends itself.
    while os.getppid() == server:
        time.sleep(1.0)
    os._exit(0)


# -- in the server process -------------------------------------------------------------------


class _Pool(ProcessPoolExecutor):
    """A pool of one builder process that knows that process's pid (its start tells it)."""

    def __init__(self, url: str) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.pid: ctypes.c_int = spawn.RawValue(ctypes.c_int, 0)  # 0 until the process has started
        super().__init__(1, mp_context=spawn, initializer=_start,
                         initargs=(url, os.getpid(), self.pid))  # fmt: skip


class PageBuilder:
    """One builder process for this server process, started by the first ``run``."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self.url, self.timeout = url, timeout
        self._pool: _Pool | None = None

    def _submit(self, build: Callable[[], T]) -> tuple[ProcessPoolExecutor, Future, float]:
        """The pool, the build's future, and how long to wait for it: a build that starts the
        process also waits for its start (on a busy machine a second or more), not only the
        stuck-build ``timeout``."""
        if self._pool is not None and not _alive(self._pool):
            self._discard(self._pool)  # died between builds, before its pool noticed: a new one
        wait = self.timeout
        if self._pool is None:
            self._pool = _Pool(self.url)
            wait += START
        return self._pool, self._pool.submit(build), wait

    async def run(self, build: Callable[[], T]) -> T:
        """What ``build()`` returns, run in the builder process. ``build`` must pickle: a
        module-level function, or a ``functools.partial`` of one with plain arguments.

        :raises BuildFailed: it raised, the process died, or no answer within ``timeout`` s.
        """
        try:
            return await self._run(build)
        except BuildFailed as err:  # once a build: the requests share it
            log_failure(log, "terminal page not built", err.__cause__ or err)
            raise

    async def _run(self, build: Callable[[], T]) -> T:
        try:
            pool, future, wait = self._submit(build)
        except BrokenProcessPool:  # the process died between builds: a new one, nothing lost
            self._discard(self._pool)
            pool, future, wait = self._submit(build)
        waiting = asyncio.wrap_future(future)
        done, _ = await asyncio.wait({waiting}, timeout=wait)
        if not done:
            waiting.cancel()
            self._discard(pool, kill=True)
            raise BuildFailed(f"no page within {wait:g} s: builder process killed")
        try:
            return waiting.result()
        except BrokenProcessPool as err:
            self._discard(pool)
            raise BuildFailed("the builder process died") from err
        except Exception as err:
            raise BuildFailed(f"the build raised {type(err).__name__}") from err

    def _discard(self, pool: ProcessPoolExecutor | None, kill: bool = False) -> None:
        """Drop ``pool`` (if it is still ours): the next build starts a new process."""
        if pool is None:
            return
        if self._pool is pool:
            self._pool = None
        if kill:
            _kill(pool)
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """End the builder process (the app stops): a build under way has ``CLOSE_WAIT`` s
        to finish, then its process is killed."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        stopping = asyncio.ensure_future(
            asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
        )
        done, _ = await asyncio.wait({stopping}, timeout=CLOSE_WAIT)
        if not done:
            _kill(pool)
            await stopping


def _alive(pool: _Pool) -> bool:
    """False once the pool's process has died (the pool itself notices a moment later)."""
    pid = pool.pid.value
    return pid == 0 or _running(pid)  # (0: not started yet)


def _running(pid: int) -> bool:
    # /proc, not Process.is_alive(): the pool's own thread may be reaping the process at
    # that moment, and is_alive() then says "alive" for a process that is gone
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _kill(pool: _Pool) -> None:
    # ProcessPoolExecutor cannot stop a call under way (3.14 adds terminate_workers): its
    # process is killed; the pool then sees it gone and fails what waited on it.
    pid = pool.pid.value
    if pid and _running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
