"""The terminal page's build in a process of its own (central/dashboard/builder.py).

Real processes throughout: the builder's, spawned by ``PageBuilder`` in this test
process or by ``central serve`` (one and two workers, SQLite and PostgreSQL); faults
are real too (a build that raises, a builder killed between builds or in the middle of
one, one that hangs, a server killed outright), and what is left running is read from
/proc, as ``ps`` would show it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import expect

from central.dashboard.builder import BuildFailed, PageBuilder
from tests.integration.test_dashboard import PASSWORD, Terminal, central_cmd
from tests.support.browser import shot, sign_in
from tests.support.central import CentralProcess

pytestmark = pytest.mark.integration
BUILDER = "multiprocessing.spawn import spawn_main"  # a builder process's command line
HELPERS = (BUILDER, "multiprocessing.resource_tracker")


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def children(pid: int) -> list[int]:
    try:
        return [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def builders(*parents: int) -> list[int]:
    return [kid for p in parents for kid in children(p) if BUILDER in command(kid)]


def helpers_of(pid: int) -> list[int]:
    return [kid for kid in children(pid) if any(h in command(kid) for h in HELPERS)]


# -- the builder on its own -------------------------------------------------------------------


async def test_builds_run_in_another_process_which_outlives_a_failed_build_and_is_replaced(
    tmp_path,
):
    builder = PageBuilder(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    try:
        # Given a first build
        pid = await builder.run(os.getpid)
        # Then it ran in a process of its own, a child of this one
        assert pid != os.getpid() and pid in builders(os.getpid())
        # When a build raises, it fails with its cause, and the process serves the next one
        with pytest.raises(BuildFailed) as failed:
            await builder.run(partial(int, "not a number"))
        assert isinstance(failed.value.__cause__, ValueError)
        assert await builder.run(os.getpid) == pid
        # When the process dies between builds, the next build gets a new one
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)
        fresh = await builder.run(os.getpid)
        assert fresh != pid and alive(fresh)
    finally:
        await builder.close()
    # And once closed, no process of its is left
    assert gone(fresh) and not builders(os.getpid())


async def test_the_build_that_starts_the_process_is_given_time_for_the_start(tmp_path):
    # Given a builder whose builds must answer within 10 ms (a fresh interpreter takes longer)
    builder = PageBuilder(f"sqlite:///{tmp_path / 'central.sqlite3'}", timeout=0.01)
    try:
        # When the first page is asked for: the process starts, and the page is built
        assert await builder.run(os.getpid) != os.getpid()
        # But a build in the running process is held to the 10 ms
        with pytest.raises(BuildFailed, match="no page within 0.01 s"):
            await builder.run(partial(time.sleep, 5))
    finally:
        await builder.close()


async def test_a_build_that_hangs_fails_after_the_timeout_and_its_process_is_killed(tmp_path):
    builder = PageBuilder(f"sqlite:///{tmp_path / 'central.sqlite3'}", timeout=1.0)
    try:
        pid = await builder.run(os.getpid)
        # When a build does not answer within the timeout
        started = time.monotonic()
        with pytest.raises(BuildFailed, match="no page within 1 s"):
            await builder.run(partial(time.sleep, 60))
        # Then it fails then, not an hour later, and the stuck process is ended
        assert time.monotonic() - started < 5
        assert gone(pid)
        # And the next build runs in a new process
        assert await builder.run(os.getpid) not in (pid, os.getpid())
    finally:
        await builder.close()


SERVER = """
import asyncio, os, sys, time
from central.dashboard.builder import PageBuilder
builder = PageBuilder(sys.argv[1])
print(asyncio.run(builder.run(os.getpid)), flush=True)
time.sleep(600)
"""


def test_a_builder_whose_server_is_killed_ends_by_itself(tmp_path):
    # Given a server process with its builder running
    server = subprocess.Popen([sys.executable, "-c", SERVER, f"sqlite:///{tmp_path / 'c.db'}"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        pid = int(server.stdout.readline())
        helpers = helpers_of(server.pid)
        assert pid in helpers
        # When the server is killed outright (it closes nothing)
        server.kill()
        server.wait(10)
        # Then its builder and multiprocessing's resource tracker end within seconds
        assert all(gone(h, 5) for h in helpers), [command(h) for h in helpers if alive(h)]
    finally:
        server.kill()
        server.wait(10)
        server.stdout.close()


# -- the page, served by ``central serve`` ---------------------------------------------------------


def serve(data: Path, database_url: str = "", workers: int = 1, env=None) -> CentralProcess:
    db = ["--database-url", database_url] if database_url else []
    done = central_cmd(data, "users", "add", "admin", "--role", "admin", *db, "--password-stdin",
                       stdin=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return CentralProcess(data, Path("config/catalog"), database_url=database_url,
                          workers=workers, env=env)  # fmt: skip


def test_the_terminal_page_is_built_beside_each_worker_and_none_is_left_after_stop(
    tmp_path, database_url, page
):
    # Given `central serve --workers 2` (on SQLite, then on PostgreSQL) and a terminal beating
    server = serve(tmp_path / "central", database_url, workers=2)
    url = server.start(timeout=30)
    try:
        kiosk = Terminal(url, "zhouhu")
        kiosk.beat(paper="paper_near_end")
        workers = server.worker_pids()
        assert not builders(*workers)  # none until somebody opens the terminal page
        # When the administrator opens the terminal page
        sign_in(page, url, "admin")
        row = page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')
        # Then the terminal is there as it reported itself
        expect(row).to_have_attribute("data-severity", "amber")
        expect(row).to_contain_text("打印纸将尽")
        shot(page, f"terminals-built-apart-{database_url.split(':')[0]}")
        # built by a process beside the worker that answered
        built = builders(*workers)
        assert len(built) == 1, [command(p) for w in workers for p in children(w)]
        left = built + [h for w in workers for h in helpers_of(w)]
    finally:
        code = server.stop()
    # And stopping the server stops it too, cleanly: nothing of the server is left running
    assert code == 0
    assert all(gone(p) for p in left), [command(p) for p in left if alive(p)]


def test_a_build_whose_process_dies_shows_a_clear_error_and_the_reload_shows_the_terminals(
    tmp_path, page
):
    # Given a server that builds the page for every request, and a terminal beating
    server = serve(tmp_path / "central", env={"CENTRAL_DASHBOARD_CACHE": "0"})
    url = server.start(timeout=30)
    try:
        kiosk = Terminal(url, "afx")
        kiosk.beat()
        sign_in(page, url, "admin")
        expect(page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')).to_have_count(1)
        (pid,) = builders(server.proc.pid)
        # When the builder process dies in the middle of a build (held, then killed)
        os.kill(pid, signal.SIGSTOP)
        killer = threading.Timer(1.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        started = time.monotonic()
        answer = page.goto(f"{url}/dashboard/terminals")
        killer.join()
        # Then the page says so at once, in both languages, and will reload by itself
        assert answer is not None and answer.status == 503
        assert time.monotonic() - started < 8
        expect(page.locator("h1")).to_contain_text("终端状态暂时无法显示")
        expect(page.locator("h1")).to_contain_text("Terminal status unavailable")
        assert page.locator('meta[http-equiv="refresh"]').count() == 1
        expect(page.locator("tr[data-terminal]")).to_have_count(0)
        shot(page, "terminals-unbuilt")
        # And the next load builds again, in a new process, and shows the terminal
        answer = page.reload()
        assert answer is not None and answer.status == 200
        expect(page.locator(f'tr[data-terminal="{kiosk.terminal_id}"]')).to_have_count(1)
        assert builders(server.proc.pid) not in ([], [pid])
    finally:
        server.stop()
