"""The terminal page's shared builds (central.dashboard.snapshots): one build per key
while it is fresh, shared by requests that come while it runs, never a failed one."""

from __future__ import annotations

import asyncio
import threading

import pytest

from central.dashboard.snapshots import Snapshots


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Builds:
    """A blocking build (it runs in a worker thread) that counts its runs."""

    def __init__(self, hold: threading.Event | None = None, fail: bool = False):
        self.runs = 0
        self.hold, self.fail = hold, fail

    def __call__(self) -> str:
        self.runs += 1
        if self.hold is not None:
            self.hold.wait(5)
        if self.fail:
            raise RuntimeError("the database went away")
        return f"page {self.runs}"


async def test_one_build_serves_every_request_for_its_key_until_it_is_ttl_old():
    clock, build = Clock(), Builds()
    kept = Snapshots(5.0, clock)
    assert await kept.get((None, ""), build) == "page 1"
    clock.now += 4.9
    assert await kept.get((None, ""), build) == "page 1"
    # Another scope has a build of its own
    assert await kept.get((("zhouhu",), ""), build) == "page 2"
    clock.now += 0.1
    assert await kept.get((None, ""), build) == "page 3"
    kept.invalidate()
    assert await kept.get((None, ""), build) == "page 4"


async def test_requests_during_a_build_wait_for_it_rather_than_start_their_own():
    hold = threading.Event()
    build = Builds(hold)
    kept = Snapshots(5.0, Clock())
    waiting = [asyncio.ensure_future(kept.get("all", build)) for _ in range(20)]
    await asyncio.sleep(0.05)
    hold.set()
    assert await asyncio.gather(*waiting) == ["page 1"] * 20 and build.runs == 1


async def test_a_failed_build_is_not_kept_and_ttl_zero_builds_each_time():
    failing = Builds(fail=True)
    kept = Snapshots(5.0, Clock())
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await kept.get("all", failing)
    assert failing.runs == 2
    assert await kept.get("all", Builds()) == "page 1"
    every, build = Snapshots(0.0, Clock()), Builds()
    assert [await every.get("all", build) for _ in range(3)] == ["page 1", "page 2", "page 3"]
