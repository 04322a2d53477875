"""Ratings and help requests from terminals, and the hall's alerts and follow-up behind them,
over real HTTP on loopback, on SQLite and PostgreSQL.

The terminal side is the real client; raw signed requests are used only where the
test must send what the client never would (a replayed key, an unknown field).
"""

from __future__ import annotations

import datetime as dt
import json
import time

import aiohttp
import pytest

from central.app import STORE, make_app
from central.config import CentralConfig
from central.dashboard.data import HallError, HallStore
from client.platform import PlatformClient
from kiosk import signing
from kiosk.errors import PlatformAuthError, PlatformRejected
from kiosk.health import Health
from tests.support.central import small_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    """The real app on a loopback port, its hall store, and one terminal enrolled at 洋溪 (hukeng)."""
    app = make_app(CentralConfig(data_dir=tmp_path / "central", database_url=database_url),
                   catalog_override=small_catalog())  # fmt: skip
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/office/enrolment-codes",
                             json={"service_point": "hukeng"}) as r:  # fmt: skip
            code = (await r.json())["code"]
        client = PlatformClient(base, timeout=5, backoff=0.01)
        await client.enrol(code)
        try:
            yield base, client, http, HallStore(app[STORE].engine)
        finally:
            await client.close()


async def signed_post(http, base, client, path, body) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    headers = signing.signed_headers(client.terminal_id, client.secret, "POST", "/api/v1" + path,
                                     data, time.time())  # fmt: skip
    headers["Content-Type"] = "application/json"
    async with http.post(f"{base}/api/v1{path}", data=data, headers=headers) as r:
        return r.status, await r.json()


async def test_bad_rating_is_stored_with_reasons_and_waits_for_follow_up(platform):
    base, client, http, hall = platform
    # When a citizen gives one star with two reasons, and another gives five
    bad = await client.rate(1, ["slow", "materials", "slow"], reference="AF2026112300007")
    await client.rate(5, [])
    # Then the bad one waits for a follow-up, reasons once each; the distribution counts both
    [row] = hall.bad_ratings(None)
    assert (row["id"], row["follow_up"], row["reasons"]) == (bad, "new", ["slow", "materials"])
    assert row["reference"] == "AF2026112300007" and row["service_point"] == "hukeng"
    dist = hall.rating_distribution(None, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert dist == {1: 1, 2: 0, 3: 0, 4: 0, 5: 1}


async def test_a_replayed_rating_key_is_stored_once_and_another_rating_under_it_is_409(platform):
    base, client, http, hall = platform
    body = {"stars": 2, "reasons": ["device"], "key": "r-1"}
    first = await signed_post(http, base, client, "/ratings", body)
    again = await signed_post(http, base, client, "/ratings", body)
    other = await signed_post(http, base, client, "/ratings", {**body, "stars": 1})
    assert first[0] == 201 and again == (200, first[1])
    assert other[0] == 409 and other[1]["error"]["key"] == "hall.key_reused"
    assert len(hall.bad_ratings(None)) == 1


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({"stars": 0}, 400, "request.wrong_type"),
        ({"stars": "5"}, 400, "request.wrong_type"),
        ({"stars": True}, 400, "request.wrong_type"),
        ({"stars": 1, "reasons": ["rude clerk 王芳"]}, 422, "hall.unknown_reason"),
        ({"stars": 1, "reasons": "slow"}, 400, "request.wrong_type"),
        ({"stars": 4, "name": "王芳"}, 400, "request.unknown_field"),
        ({"stars": 4, "reference": "<script>"}, 400, "request.wrong_type"),
    ],
)
async def test_a_rating_that_could_carry_anything_else_is_refused(platform, body, status, key):
    base, client, http, hall = platform
    got = await signed_post(http, base, client, "/ratings", body)
    assert (got[0], got[1]["error"]["key"]) == (status, key)
    assert got[1]["error"]["message"]["zh"]
    assert hall.rating_distribution(None, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == dict.fromkeys(
        range(1, 6), 0
    )


async def test_unsigned_rating_and_help_request_are_refused(platform):
    base, client, http, _ = platform
    for path, body in (("/ratings", {"stars": 5}), ("/help-requests", {"screen": "home"})):
        async with http.post(f"{base}/api/v1{path}", json=body) as r:
            assert r.status == 401 and (await r.json())["error"]["key"] == "auth.unsigned"
    forged = PlatformClient(base, client.terminal_id, "not-the-secret", timeout=5)
    try:
        with pytest.raises(PlatformAuthError):
            await forged.call_staff("home")
    finally:
        await forged.close()


async def test_pressing_call_staff_twice_calls_one_person_until_it_is_closed(platform):
    base, client, http, hall = platform
    # When the citizen presses "call staff" twice on the form
    first, second = await client.call_staff("apply.form"), await client.call_staff("apply.form")
    # Then one help request and one alert are open, naming the screen
    [alert] = hall.alerts(None)
    assert first == second and (alert["kind"], alert["detail"]) == ("help", "apply.form")
    assert alert["terminal_id"] == client.terminal_id and alert["service_point"] == "hukeng"
    # A press on 关闭 before anyone acknowledged it is asked about again (not closed)
    with pytest.raises(HallError) as unanswered:
        hall.act_on_alert(alert["id"], "close", "zhang", None, confirmed=False)
    assert unanswered.value.key == "hall.unanswered_call" and len(hall.alerts(None)) == 1
    # When a person has acknowledged it and closes it, the next press opens a new call
    hall.act_on_alert(alert["id"], "acknowledge", "zhang", None)
    hall.act_on_alert(alert["id"], "close", "zhang", None, confirmed=False)
    assert hall.alerts(None) == []
    assert await client.call_staff("apply.form") != first
    with pytest.raises(PlatformRejected):
        await client.call_staff("")


async def test_sweep_opens_one_alert_per_condition_and_marks_it_cleared_when_it_ends(platform):
    base, client, http, hall = platform
    now = dt.datetime.now(dt.UTC)
    # Given a terminal out of paper with a faulty ID reader
    await client.heartbeat([Health.fault("idcard", "no answer"), Health.good("printer")],
                           software_version="1.0", screen="home", paper="paper_out")  # fmt: skip
    # When the hall sweeps twice
    hall.sweep(now, 90)
    hall.sweep(now, 90)
    # Then one alert per condition is open, keeping what the device said
    kinds = sorted((a["kind"], a["detail"], a["reason"]) for a in hall.alerts(None))
    assert kinds == [("device_fault", "idcard", "no answer"), ("paper_out", "", "")]
    assert hall.count_open_alerts(None) == 2
    # When the paper is refilled and the reader answers again
    await client.heartbeat(
        [Health.good("idcard")], software_version="1.0", screen="home", paper="ok"
    )
    hall.sweep(dt.datetime.now(dt.UTC), 90)
    # Then both stay open for a person but show they ended by themselves
    cleared = sorted((a["kind"], a["detail"], a["cleared_at"] is not None) for a in hall.alerts(None))
    assert cleared == [("device_fault", "idcard", True), ("paper_out", "", True)]
    # and call nobody: the Alerts badge counts only what still holds
    assert hall.count_open_alerts(None) == 0
    # When the reader fails again, for another cause, before anyone closed its alert
    await client.heartbeat([Health.fault("idcard", "antenna not found"), Health.good("printer")],
                           software_version="1.0", screen="home", paper="ok")  # fmt: skip
    hall.sweep(dt.datetime.now(dt.UTC), 90)
    # Then the same alert holds again, saying what the reader says now
    [again] = [a for a in hall.alerts(None) if a["kind"] == "device_fault"]
    assert again["cleared_at"] is None and again["reason"] == "antenna not found"
    assert hall.count_open_alerts(None) == 1
    # And when the terminal goes quiet past the threshold, an offline alert opens
    hall.sweep(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=200), 90)
    assert "offline" in {a["kind"] for a in hall.alerts(None)}


async def test_sweeps_at_once_in_several_workers_record_each_change_once(platform):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    from central import tables as t

    base, client, http, hall = platform
    # Given a terminal out of paper, its alert open
    await client.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                           paper="paper_out")  # fmt: skip
    hall.sweep(dt.datetime.now(dt.UTC), 90)
    # When the paper is back and every worker of a fleet sweeps at the same moment
    await client.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                           paper="ok")  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    views = hall.terminal_views(None, now, 90)  # judged once, as each worker's builder does
    with ThreadPoolExecutor(6) as pool:
        await asyncio.gather(*(asyncio.wrap_future(pool.submit(hall.sweep, now, 90, views))
                               for _ in range(6)))  # fmt: skip
    # Then the alert's history says once that it ended by itself, not once per worker
    with hall.engine.connect() as conn:
        actions = list(conn.scalars(sa.select(t.alert_events.c.action)
                                    .order_by(t.alert_events.c.id)))  # fmt: skip
    assert actions == ["opened", "cleared"]


async def test_a_sweep_judged_before_one_already_written_changes_nothing(platform):
    import sqlalchemy as sa

    from central import tables as t

    base, client, http, hall = platform
    # Given a terminal out of paper, its alert open
    await client.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                           paper="paper_out")  # fmt: skip
    hall.sweep(dt.datetime.now(dt.UTC), 90)
    # and one worker's builder judging it just then, slowly (still out of paper)
    before = dt.datetime.now(dt.UTC)
    stale = hall.terminal_views(None, before, 90)
    # When the paper is back and another worker's sweep, judged later, writes first
    await client.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                           paper="ok")  # fmt: skip
    after = before + dt.timedelta(milliseconds=5)
    hall.sweep(after, 90, hall.terminal_views(None, after, 90))
    # Then the slow sweep, arriving last with its older judgement, writes nothing
    late = hall.sweep(before, 90, stale)
    assert (late.open, late.clear, late.recur) == ((), (), ())
    with hall.engine.connect() as conn:
        actions = list(conn.scalars(sa.select(t.alert_events.c.action)
                                    .order_by(t.alert_events.c.id)))  # fmt: skip
    assert actions == ["opened", "cleared"]  # not cleared, recurred, and cleared again
    [alert] = hall.alerts(None)
    assert alert["cleared_at"] is not None


async def test_sweeps_go_on_after_the_server_clock_is_set_back(platform):
    base, client, http, hall = platform
    now = dt.datetime.now(dt.UTC)
    # Given a sweep stamped an hour ahead (the clock was wrong, then put right)
    hall.sweep(now + dt.timedelta(hours=1), 90)
    # When the paper runs out now
    await client.heartbeat([Health.good("printer")], software_version="1.0", screen="home",
                           paper="paper_out")  # fmt: skip
    plan = hall.sweep(dt.datetime.now(dt.UTC), 90)
    # Then the sweep judged at the right time still opens its alert, and ends the one the
    # wrong clock opened (the terminal "offline" an hour ahead)
    assert [c.kind for _, _, c in plan.open] == ["paper_out"]
    alerts = {a["kind"]: a for a in hall.alerts(None)}
    assert alerts["paper_out"]["cleared_at"] is None and alerts["offline"]["cleared_at"] is not None


async def test_one_worker_of_a_fleet_sweeps_in_each_period(platform):
    base, client, http, hall = platform
    other = HallStore(hall.engine)  # another worker's, on the same database
    now = dt.datetime.now(dt.UTC)
    # The first to ask in a period sweeps; the others wait for the next period
    assert hall.take_turn("sweep", 8, now) is True
    assert other.take_turn("sweep", 8, now + dt.timedelta(seconds=1)) is False
    assert hall.take_turn("sweep", 8, now + dt.timedelta(seconds=2)) is False
    later = now + dt.timedelta(seconds=9)
    assert other.take_turn("sweep", 8, later) is True
    assert hall.take_turn("sweep", 8, later) is False
    # a task's turns are its own
    assert hall.take_turn("another", 8, later) is True


async def test_follow_up_moves_one_step_from_the_state_seen_and_respects_scope(platform):
    base, client, http, hall = platform
    rating = await client.rate(2, ["staff"])
    # A manager of another point does not find it
    with pytest.raises(HallError) as err:
        hall.follow_up(rating, "new", "li", "li", "", ("zhouhu",))
    assert err.value.status == 404
    # The right manager assigns it; a second person acting on the stale page gets a 409
    assert hall.follow_up(rating, "new", "wang", "李主任", "", ("hukeng",)) == "assigned"
    with pytest.raises(HallError) as err:
        hall.follow_up(rating, "new", "zhao", "", "", ("hukeng",))
    assert err.value.status == 409
    assert hall.follow_up(rating, "assigned", "wang", "", "回访", None) == "contacted"
    assert hall.follow_up(rating, "contacted", "wang", "", "", None) == "resolved"
    [row] = hall.bad_ratings(None)
    assert [h["state"] for h in row["history"]] == ["new", "assigned", "contacted", "resolved"]
    assert row["assigned_to"] == "李主任"
