"""The terminal page's costly part, built once per scope and shared for a few seconds.

Twenty managers whose pages reload every 15 s would otherwise each read every
terminal in their scope, judge it and render up to 2 000 rows: about 100 ms of Python
each (done in the page builder's process, central/dashboard/builder.py). A snapshot
(the terminals judged at one instant, rendered) serves every request for the same
key (the user's scope and point filter) until it is ``ttl`` seconds old; requests
that come while it is being built wait for that build instead of starting their
own. A build that fails is not kept. ``ttl`` 0 builds for every request. Each
server process (``central serve --workers N``) keeps its own. ``run(build)`` is how a
build runs: the page builder's process in the app, a worker thread by default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from aiohttp import web


class Snapshots:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic,
                 run: Callable[[Callable[[], Any]], Awaitable[Any]] = asyncio.to_thread):  # fmt: skip
        self.ttl = ttl
        self._clock, self._run = clock, run
        self._kept: dict[Hashable, tuple[float, asyncio.Future]] = {}

    async def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What ``build()`` (blocking: given to ``run``) returns for ``key``: from a build
        started under ``ttl`` s ago, or one under way, or a new one."""
        now = self._clock()
        kept = self._kept.get(key)
        if kept is None or now - kept[0] >= self.ttl or _failed(kept[1]):
            self._kept = {k: v for k, v in self._kept.items() if now - v[0] < self.ttl}
            kept = (now, asyncio.ensure_future(self._run(build)))
            self._kept[key] = kept
        # shielded: a reader who leaves does not cancel the build the others wait for
        return await asyncio.shield(kept[1])

    def invalidate(self) -> None:
        """The next request builds afresh (after a change made in this process)."""
        self._kept.clear()


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


SNAPSHOTS: web.AppKey[Snapshots] = web.AppKey("dashboard_snapshots", Snapshots)
