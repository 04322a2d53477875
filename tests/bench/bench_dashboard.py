"""The hall dashboard's terminal page with a county-sized fleet, one line per figure:
``name: value unit (goal …) ok|MISS``.

2 000 terminals across the catalog's service points and a month of heartbeats
(one an hour per terminal: 1.44 M rows of history; the page reads each terminal's
latest beat from ``terminal_state``, one row per terminal, so the history's size
matters little) are seeded straight through the store's engine into SQLite. The platform runs in this process on a
loopback port; an administrator signs in and the terminal page (every terminal,
sorted by severity) is fetched over HTTP. Server time is the median and p95 of
20 fetches after one warm-up, each built afresh (the few-second cache that lets
managers of one scope share a build is off here).

Heartbeat ingest with the dashboard open: the same seeded platform as its own
process (``central serve``); heartbeats from 16 enrolled terminals at 32 in
flight, first with no dashboard open (the baseline, measured in the same run),
then while 20 signed-in managers each have the terminal page open (it reloads
itself every 15 s: 1.3 pages a second), their browsers a process of their own (as
they are other machines); each rate the median of 4 runs of 4 000 beats, the runs
without and with the pages alternating. The figure is the ratio of the two rates
(goal ≥ 0.9×: "unaffected"), with the p99 while the pages load, and the server's
CPU time per heartbeat in both (a comment line: unlike the rates, other work on
the machine hardly moves it). The managers all see every point (one scope), so
they share the page's build: at most one every 5 s (``CENTRAL_DASHBOARD_CACHE``;
set it to 0 to see each page built for itself).

Run: `.venv/bin/python tests/bench/bench_dashboard.py` (about two minutes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from central import tables as t  # noqa: E402
from central.app import make_app  # noqa: E402
from central.config import CentralConfig  # noqa: E402
from central.dashboard import SETTINGS  # noqa: E402
from central.dashboard.data import HallStore  # noqa: E402
from central.db import make_engine, migrate  # noqa: E402

TERMINALS = 2000
DAYS, PER_DAY = 30, 24
GOAL_MS = 300
POINTS = ["afx", "hukeng", "zhouhu", "henglong", "yangxi", "yantian", "fengtian", "zhujiang",
          "guashe", "qianshan", "chigu", "shanzhuang", "yangmen"]  # fmt: skip


def line(name: str, value: float, unit: str, goal: str, ok: bool) -> None:
    print(f"{name}: {value:.3g} {unit} (goal {goal}) {'ok' if ok else 'MISS'}", flush=True)


def seed(url: str) -> int:
    engine = make_engine(url)
    migrate(engine)
    rnd = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    devices_ok = [{"device": d, "state": "ok", "reason": ""}
                  for d in ("idcard", "printer", "sscard", "scanner", "camera")]  # fmt: skip
    seen = [now - dt.timedelta(seconds=rnd.choice((5, 20, 400))) for _ in range(TERMINALS)]
    with engine.begin() as conn:
        conn.execute(t.terminals.insert(), [
            {"id": f"T{i:05d}", "service_point": POINTS[i % len(POINTS)], "secret": "x" * 43,
             "enrolled_at": now - dt.timedelta(days=DAYS)}
            for i in range(TERMINALS)])  # fmt: skip
    rows = 0
    for day in range(DAYS):
        batch = []
        for hour in range(PER_DAY):
            at = now - dt.timedelta(days=DAYS - day, hours=-hour)
            last = day == DAYS - 1 and hour == PER_DAY - 1
            for i in range(TERMINALS):
                paper = rnd.choice(("ok",) * 8 + ("paper_near_end", "paper_out")) if last else "ok"
                devices = devices_ok
                if last and rnd.random() < 0.03:
                    devices = [
                        {**devices_ok[0], "state": "fault", "reason": "no answer"},
                        *devices_ok[1:],
                    ]
                batch.append({"terminal_id": f"T{i:05d}", "at": at, "software_version": "1.4.2",
                              "screen": "attract", "paper": paper, "devices": devices})  # fmt: skip
        with engine.begin() as conn:
            conn.execute(t.heartbeats.insert(), batch)
        rows += len(batch)
    with engine.begin() as conn:  # each terminal's latest beat, as the platform upserts it
        conn.execute(t.terminal_state.insert(), [
            {**beat, "at": seen[i], "history_at": beat["at"]}
            for i, beat in enumerate(batch[-TERMINALS:])])  # fmt: skip
    HallStore(engine).add_user("bench-admin", "admin", [], "bench-password")
    engine.dispose()
    return rows


async def measure(data_dir: Path) -> list[float]:
    app = make_app(CentralConfig(data_dir=data_dir))
    # every fetch builds the page afresh: the figure is a build, not the few-second cache
    app[SETTINGS] = dataclasses.replace(app[SETTINGS], page_cache_seconds=0)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{base}/dashboard/login") as r:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
            form = {"csrf": csrf, "name": "bench-admin", "password": "bench-password",
                    "next": "/dashboard/terminals"}  # fmt: skip
            async with http.post(f"{base}/dashboard/login", data=form) as r:
                page = await r.text()
                assert r.status == 200 and page.count("data-terminal=") == TERMINALS, r.status
            times = []
            for _ in range(20):
                start = time.perf_counter()
                async with http.get(f"{base}/dashboard/terminals") as r:
                    await r.read()
                    assert r.status == 200
                times.append((time.perf_counter() - start) * 1000)
            return times
    finally:
        await runner.cleanup()


MANAGERS, REFRESH = 20, 15.0
ROUNDS, BEATS = 4, 4000  # each rate the median of ROUNDS runs of BEATS heartbeats


async def sign_in(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(f"{base}/dashboard/login") as r:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
    form = {"csrf": csrf, "name": "bench-admin", "password": "bench-password",
            "next": "/dashboard/terminals"}  # fmt: skip
    async with http.post(f"{base}/dashboard/login", data=form) as r:
        assert r.status == 200, r.status


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(pid: int, run) -> tuple[float, float, float]:
    """(requests/s, p99 seconds) of ``run``, and the CPU seconds the server spent meanwhile."""
    before = cpu_seconds(pid)
    rate, p99 = await run
    return rate, p99, cpu_seconds(pid) - before


async def _managers(base: str, opened, active, stop, served) -> None:
    """MANAGERS signed-in managers, each reloading the terminal page every REFRESH s while
    ``active`` is set, until ``stop`` (multiprocessing Events); then the page times go to
    ``served``."""
    pages: list[float] = []

    async def manager(offset: float) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await sign_in(http, base)
            await asyncio.sleep(offset)
            while not stop.is_set():
                if not active.is_set():  # the page closed for a baseline round
                    await asyncio.sleep(0.05)
                    continue
                start = time.perf_counter()
                async with http.get(f"{base}/dashboard/terminals") as r:
                    await r.read()
                pages.append(time.perf_counter() - start)
                for _ in range(int(REFRESH / 0.1)):
                    if stop.is_set():
                        break
                    await asyncio.sleep(0.1)

    managers = [asyncio.ensure_future(manager(i * REFRESH / MANAGERS)) for i in range(MANAGERS)]
    await asyncio.sleep(REFRESH)  # every manager's page is open and reloading
    opened.set()
    await asyncio.gather(*managers)
    served.put(pages)


def managers_process(base: str, opened, active, stop, served) -> None:
    asyncio.run(_managers(base, opened, active, stop, served))


async def ingest_with_dashboard_open(data_dir: Path) -> None:
    """The managers' browsers are a process of their own, as they are other machines: their
    reading of the pages must not slow the load generator and pass for the server's doing."""
    import multiprocessing

    from tests.bench.bench_platform import HB_PATH, enrol, load, signed_beats
    from tests.support.central import CentralProcess

    server = CentralProcess(data_dir, ROOT / "config" / "catalog")
    base = server.start()
    mp = multiprocessing.get_context("spawn")
    opened, active, stop, served = mp.Event(), mp.Event(), mp.Event(), mp.Queue()
    try:
        enrolled = await enrol(base, 16)
        await load(base + HB_PATH, signed_beats(enrolled, 300))  # warm up
        active.set()
        browsers = mp.Process(target=managers_process, args=(base, opened, active, stop, served))
        browsers.start()
        await asyncio.to_thread(opened.wait, 120)
        # rounds alternate, pages closed then open, so a slow spell of the machine falls on both
        idle, busy = [], []
        for _ in range(ROUNDS):
            for rounds, on in ((idle, False), (busy, True)):
                (active.set if on else active.clear)()
                await asyncio.sleep(1.0)  # pages in flight finish, or the reloads begin again
                rounds.append(await timed(server.proc.pid,
                                          load(base + HB_PATH, signed_beats(enrolled, BEATS))))  # fmt: skip
        stop.set()
        pages = await asyncio.to_thread(served.get, True, 60)
        browsers.join(30)
    finally:
        stop.set()
        server.stop()
    idle_rps = statistics.median(r[0] for r in idle)
    busy_rps, busy_p99 = statistics.median(r[0] for r in busy), max(r[1] for r in busy)
    ratio = busy_rps / idle_rps
    line("heartbeats with no dashboard open", idle_rps, "beats/s", "baseline", True)
    line(f"heartbeat ingest with {MANAGERS} terminal pages open", ratio, "× no dashboard",
         "≥ 0.9×", ratio >= 0.9)  # fmt: skip
    idle_p99 = max(r[1] for r in idle)
    line(f"heartbeat p99 with {MANAGERS} terminal pages open", busy_p99 * 1000, "ms", "≤ 50 ms",
         busy_p99 <= 0.05)  # fmt: skip
    print(f"# heartbeat p99 with no dashboard open: {idle_p99 * 1000:.1f} ms", flush=True)
    # the server's own CPU time per beat, which other work on the machine does not change
    cpu_idle, cpu_busy = (statistics.median(r[2] for r in rs) / BEATS for rs in (idle, busy))
    print(f"# server CPU per heartbeat: {cpu_idle * 1e6:.0f} µs with no dashboard open, "
          f"{cpu_busy * 1e6:.0f} µs with the pages open ({cpu_idle / cpu_busy:.2f}×)", flush=True)  # fmt: skip
    print(f"# {len(pages)} terminal pages served meanwhile, median "
          f"{statistics.median(pages) * 1000:.0f} ms", flush=True)  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        rows = seed(f"sqlite:///{data_dir / 'central.sqlite3'}")
        print(f"# seeded {TERMINALS} terminals and {rows:,} heartbeats in "
              f"{time.perf_counter() - started:.0f}s", flush=True)  # fmt: skip
        times = asyncio.run(measure(data_dir))
        asyncio.run(ingest_with_dashboard_open(data_dir))
    median, p95 = statistics.median(times), sorted(times)[int(0.95 * len(times)) - 1]
    name = f"dashboard terminal page, {TERMINALS} terminals, {rows / 1e6:.2f} M heartbeats (SQLite)"
    line(f"{name}, median", median, "ms", f"≤ {GOAL_MS} ms", median <= GOAL_MS)
    line(f"{name}, p95", p95, "ms", f"≤ {GOAL_MS} ms", p95 <= GOAL_MS)


if __name__ == "__main__":
    main()
