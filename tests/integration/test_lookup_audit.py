"""The personal-data lookups audit trail on both databases: one citizen's lookups found by
the keyed hashes of their number (under every key of the ring), each terminal's counts in
the administrator's scope, and rows past their keeping time forgotten a batch at a time."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from central import tables as t
from central.dashboard.data import LookupAudit, forget_oldest
from central.db import make_engine, migrate
from central.sealing import SecretBox

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def test_lookups_are_found_by_citizen_counted_by_terminal_and_forgotten_when_old(engine):
    now = dt.datetime.now(dt.UTC)
    old_key, new_key = SecretBox(b"o" * 32), SecretBox(b"n" * 32, b"o" * 32)  # a rotation
    someone, other = "11010519491231002X", "362429199005010021"
    with engine.begin() as conn:
        conn.execute(t.terminals.insert(), [
            {"id": "T-ZH", "service_point": "zhouhu", "secret": "s", "enrolled_at": now},
            {"id": "T-HK", "service_point": "hukeng", "secret": "s", "enrolled_at": now}])  # fmt: skip
        conn.execute(t.personal_lookups.insert(), [  # written as they came: oldest first
            *[{"terminal_id": "T-HK", "kind": "record", "applicant": new_key.blind(other),
               "at": now - dt.timedelta(days=202 - i)} for i in range(3)],
            # before the key rotation, under the old key; after it, under the new one
            {"terminal_id": "T-ZH", "kind": "applications", "applicant": old_key.blind(someone),
             "at": now - dt.timedelta(days=2)},
            {"terminal_id": "T-ZH", "kind": "face", "applicant": new_key.blind(someone),
             "at": now - dt.timedelta(days=1)},
            {"terminal_id": "T-HK", "kind": "record", "applicant": new_key.blind(other),
             "at": now - dt.timedelta(hours=1)},
        ])  # fmt: skip
    audit = LookupAudit(engine)
    # One citizen's lookups, by every key of the ring, newest first
    found = audit.of_citizen(new_key.blinds(someone))
    assert [(r["terminal_id"], r["kind"], r["service_point"]) for r in found] == [
        ("T-ZH", "face", "zhouhu"), ("T-ZH", "applications", "zhouhu")]  # fmt: skip
    # (an administrator's search for them is kept too, and listed with them)
    audit.note_search("admin", new_key.blind(someone))
    assert [r["kind"] for r in audit.of_citizen(new_key.blinds(someone))][0] == "audit"
    # Each terminal's week, the busiest first (searches are not a terminal's); a scope
    # sees its own points only. (Citizens
    # are told apart by their hash: the one citizen looked up on both sides of the rotation
    # counts once a key, as hashes under two keys cannot be matched without the number.)
    week = audit.by_terminal(now - dt.timedelta(days=7), None)
    assert [(r["terminal_id"], r["total"], r["citizens"]) for r in week] == [
        ("T-ZH", 2, 2), ("T-HK", 1, 1)]  # fmt: skip
    assert (week[0]["applications"], week[0]["face"], week[0]["record"]) == (1, 1, 0)
    assert [r["terminal_id"] for r in audit.by_terminal(now - dt.timedelta(days=7), ["hukeng"])] == ["T-HK"]
    # Rows past their keeping time go, a batch at a time; the recent ones stay
    before = now - dt.timedelta(days=180)
    assert [audit.prune(before, batch=2) for _ in range(3)] == [2, 1, 0]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.personal_lookups)).scalar() == 4  # with the search


async def test_the_sweep_forgets_old_heartbeat_history_and_lookups_and_keeps_the_rest(engine):
    from aiohttp import web

    from central.app import STORE
    from central.dashboard import SETTINGS, Settings
    from central.dashboard.handlers import _forget_old_rows
    from central.store import Store

    now = dt.datetime.now(dt.UTC)
    beat = {"terminal_id": "T-ZH", "software_version": "1.4.2", "screen": "attract",
            "paper": "ok", "devices": []}  # fmt: skip
    with engine.begin() as conn:  # written as they came: oldest first
        conn.execute(t.heartbeats.insert(), [
            *[{**beat, "at": now - dt.timedelta(days=100 - i)} for i in range(3)],
            {**beat, "at": now - dt.timedelta(days=30)}])  # fmt: skip
        conn.execute(t.personal_lookups.insert(), [
            {"terminal_id": "T-ZH", "kind": "record", "applicant": "h", "at": now - dt.timedelta(days=d)}
            for d in (10, 5)])  # fmt: skip
    app = web.Application()
    app[STORE] = Store(engine)
    # kept 90 days of history and 7 of lookups (a county's own choice)
    app[SETTINGS] = Settings(heartbeats_kept_days=90, lookups_kept_days=7)
    # When the sweeps run
    for _ in range(2):
        await _forget_old_rows(app, now)
    # Then what is past its time is gone, and only that
    with engine.connect() as conn:
        beats = conn.execute(sa.select(t.heartbeats.c.at)).scalars().all()
        lookups = conn.execute(sa.select(t.personal_lookups.c.at)).scalars().all()
    assert len(beats) == 1 and (now - _aware(beats[0])).days == 30
    assert len(lookups) == 1 and (now - _aware(lookups[0])).days == 5
    # and a table with nothing old is left alone
    assert forget_oldest(engine, t.heartbeats, now - dt.timedelta(days=90)) == 0


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
