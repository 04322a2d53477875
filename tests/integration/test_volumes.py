"""Volumes behind the dashboard's 业务量 page, over real HTTP on loopback, SQLite and PostgreSQL.

A real kiosk core (kiosk.terminal.Terminal) with the real platform client ends visits
and looks up an application; the platform counts them beside the submissions and
tickets it already holds. Raw signed requests are used only for what the client
never sends (an unknown field, the same batch twice).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid

import aiohttp
import pytest

from central.app import STORE, make_app
from central.config import CentralConfig
from central.dashboard import volumes
from kiosk import signing
from kiosk.config import KioskConfig
from kiosk.terminal import Ports, Terminal
from tests.support.central import a_submission, enrolled_client, small_catalog

pytestmark = pytest.mark.integration
CHINA = volumes.CHINA


@pytest.fixture
async def platform(aiohttp_server, database_url, tmp_path):
    """The real app on a loopback port and two terminals: one at 洋溪 (hukeng), one at the county centre."""
    app = make_app(CentralConfig(data_dir=tmp_path / "central", database_url=database_url),
                   catalog_override=small_catalog())  # fmt: skip
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        hukeng, county = (
            await enrolled_client(http, base, "hukeng"),
            await enrolled_client(http, base, "afx"),
        )
        try:
            yield base, http, hukeng, county, app[STORE].engine
        finally:
            await hukeng.close()
            await county.close()


def today_range(unit: str = "hour") -> volumes.Range:
    today = dt.datetime.now(CHINA).date()
    return volumes.Range(today, today, unit)


async def test_a_kiosk_visit_a_query_an_application_and_a_ticket_are_each_counted_once(platform):
    base, http, client, _, engine = platform
    # Given a kiosk at 洋溪 whose citizen applies for the birth bundle and takes a ticket
    kiosk = Terminal(Ports(platform=client), KioskConfig())
    kiosk.begin(None)
    kiosk.session.life_event = "birth"
    outcome = await client.submit(a_submission(client.terminal_id))
    kiosk.outcome = outcome
    await client.ticket("hukeng", "general")
    # When the visit ends and another citizen looks the application up
    kiosk.end("finished")
    await kiosk.progress(outcome.acceptance_number)
    await asyncio.wait_for(_until(lambda: not kiosk.pending_events()), 5)
    await kiosk.send_events()
    # Then today's hourly report counts one of each, in this hour of China time
    report = await asyncio.to_thread(volumes.report, engine, None, today_range())
    assert {m: report.total(m) for m in volumes.MEASURES} == {
        "sessions": 1, "applications": 1, "queries": 1, "tickets": 1}  # fmt: skip
    hour = dt.datetime.now(CHINA).strftime("%Y-%m-%d %H")
    assert all(report.series[m] == {hour: 1} for m in volumes.MEASURES)
    assert report.per_point["sessions"] == {"hukeng": 1}
    assert report.per_terminal["tickets"] == {client.terminal_id: 1}
    assert report.by_life_event == {"birth": 1}
    assert report.by_matter == {"hukou_birth": 1, "social_card": 1}
    assert report.ended == {"finished": 1} and report.queries_by_kind == {"progress": 1}


async def test_days_and_hours_are_china_time_not_utc(platform):
    _, _, client, _, engine = platform
    # Given visits at 23:30 and 00:30 China time on either side of midnight (15:30 and 16:30 UTC)
    day = dt.date(2026, 11, 22)
    base = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)
    await client.send_events([_visit(base), _visit(base + dt.timedelta(hours=1)),
                              _visit(base + dt.timedelta(hours=1, minutes=10))])  # fmt: skip
    # When the two days are counted by day and by hour
    by_day = volumes.report(engine, None, volumes.Range(day, day + dt.timedelta(days=1), "day"))
    by_hour = volumes.report(engine, None, volumes.Range(day, day + dt.timedelta(days=1), "hour"))
    # Then the first is the 22nd's last hour, the others the 23rd's first
    assert by_day.series["sessions"] == {"2026-11-22": 1, "2026-11-23": 2}
    assert by_hour.series["sessions"] == {"2026-11-22 23": 1, "2026-11-23 00": 2}
    assert len(by_hour.range.buckets()) == 48 and by_hour.range.buckets()[24] == "2026-11-23 00"
    # And a range of the 23rd alone leaves the 22nd's visit out
    only = volumes.report(
        engine, None, volumes.Range(day + dt.timedelta(days=1), day + dt.timedelta(days=1))
    )
    assert only.total("sessions") == 2


async def test_a_point_sees_only_its_own_traffic(platform):
    _, _, hukeng, county, engine = platform
    # a few minutes ago, but today in China (run just after China's midnight, 16:00 UTC,
    # "five minutes ago" was yesterday's and today's report rightly left it out)
    now = dt.datetime.now(CHINA)
    at = max(now - dt.timedelta(minutes=5), now.replace(hour=0, minute=0, second=0, microsecond=0))
    await hukeng.send_events([_visit(at), _visit(at), _query(at)])
    await county.send_events([_visit(at)])
    mine = volumes.report(engine, ("hukeng",), today_range("day"))
    assert mine.total("sessions") == 2 and mine.total("queries") == 1
    assert set(mine.per_point["sessions"]) == {"hukeng"}
    everyone = volumes.report(engine, None, today_range("day"))
    assert everyone.per_point["sessions"] == {"hukeng": 2, "afx": 1}
    one = volumes.report(engine, None, today_range("day"), terminal=county.terminal_id)
    assert one.total("sessions") == 1 and one.total("queries") == 0


async def test_a_ticket_taken_counts_as_a_ticket_not_again_as_a_query(platform):
    _, _, client, _, engine = platform
    at = dt.datetime.now(dt.UTC)
    await client.send_events([{**_query(at), "what": "ticket"}, _query(at)])
    report = volumes.report(engine, None, today_range("day"))
    assert report.total("queries") == 1
    assert report.queries_by_kind == {"ticket": 1, "progress": 1}


async def test_the_same_batch_twice_is_stored_once(platform):
    base, http, client, _, engine = platform
    batch = {"events": [_visit(dt.datetime.now(dt.UTC)), _query(dt.datetime.now(dt.UTC))]}
    first = await _signed_post(http, base, client, "/events", batch)
    again = await _signed_post(http, base, client, "/events", batch)
    assert first == (200, {"received": 2, "stored": 2})
    assert again == (200, {"received": 2, "stored": 0})
    assert volumes.report(engine, None, today_range("day")).total("sessions") == 1


async def test_the_terminal_keeps_when_a_citizen_last_used_it(platform):
    import sqlalchemy as sa

    from central import tables as t

    base, http, client, _, engine = platform

    def last_used():
        with engine.connect() as conn:
            got = conn.execute(sa.select(t.terminals.c.last_used_at)
                               .where(t.terminals.c.id == client.terminal_id)).scalar()  # fmt: skip
        return got if got is None or got.tzinfo else got.replace(tzinfo=dt.UTC)

    assert last_used() is None  # (never used since enrolled)
    hour_ago = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    await _signed_post(http, base, client, "/events", {"events": [_visit(hour_ago)]})
    assert last_used() == hour_ago
    # a batch that arrives late with an older visit (kept while the platform was away) does
    # not put it back
    await _signed_post(http, base, client, "/events",
                       {"events": [_query(hour_ago - dt.timedelta(hours=5))]})  # fmt: skip
    assert last_used() == hour_ago


@pytest.mark.parametrize("change", [
    {"name": "王芳"},  # a field no event has: nothing personal slips in
    {"life_event": "出生 王芳"},  # codes only
    {"end": "timeout because 13907961234"},
    {"seconds": -1},
    {"at": "2026-11-23 10:00"},  # no zone
])  # fmt: skip
async def test_an_event_with_anything_but_codes_and_counts_is_refused(platform, change):
    base, http, client, _, engine = platform
    status, body = await _signed_post(http, base, client, "/events",
                                      {"events": [{**_visit(dt.datetime.now(dt.UTC)), **change}]})  # fmt: skip
    assert status == 400 and body["error"]["key"] in ("request.unknown_field", "request.wrong_type")
    assert volumes.report(engine, None, today_range("day")).total("sessions") == 0


async def test_an_unsigned_batch_is_refused(platform):
    base, http, *_ = platform
    async with http.post(f"{base}/api/v1/events", json={"events": []}) as r:
        assert r.status == 401


def test_ranges_default_sensibly_and_hours_are_kept_to_two_weeks():
    today = dt.date(2026, 11, 23)
    week, note = volumes.parse_range("", "", "", today)
    assert (week.first, week.last, week.unit, note) == (dt.date(2026, 11, 17), today, "day", "")
    hourly, _ = volumes.parse_range("", "", "hour", today)
    assert (hourly.first, hourly.last, len(hourly.buckets())) == (today, today, 24)
    month, note = volumes.parse_range("2026-10-01", "2026-11-23", "hour", today)
    assert month.unit == "day" and note == "hours_too_long"
    swapped, _ = volumes.parse_range("2026-11-23", "2026-11-20", "day", today)
    assert (swapped.first, swapped.last) == (dt.date(2026, 11, 20), today)
    garbled, _ = volumes.parse_range("yesterday", "<script>", "week", today)
    assert (garbled.last, garbled.unit) == (today, "day")


def _visit(at: dt.datetime, **extra) -> dict:
    return {"key": uuid.uuid4().hex, "kind": "session", "at": at.isoformat(), "seconds": 120,
            "end": "finished", "life_event": "birth", "submitted": True, "elderly": False,
            "language": "zh", **extra}  # fmt: skip


def _query(at: dt.datetime) -> dict:
    return {"key": uuid.uuid4().hex, "kind": "query", "at": at.isoformat(), "what": "progress",
            "found": True}  # fmt: skip


async def _signed_post(http, base, client, path, body) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    headers = signing.signed_headers(client.terminal_id, client.secret, "POST", "/api/v1" + path,
                                     data, time.time())  # fmt: skip
    headers["Content-Type"] = "application/json"
    async with http.post(f"{base}/api/v1{path}", data=data, headers=headers) as r:
        return r.status, await r.json()


async def _until(check):
    while not check():
        await asyncio.sleep(0.01)
