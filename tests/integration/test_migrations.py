"""The migrations build the schema that central/tables.py declares, on both databases: a
column added to a table but forgotten in a migration (or the other way round) is found here,
not by a platform failing on a county's database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from central import tables as t
from central.db import make_engine, migrate

pytestmark = pytest.mark.integration


def test_the_migrated_schema_is_the_declared_one(database_url):
    # Given a database brought up by the migrations alone
    engine = make_engine(database_url)
    try:
        migrate(engine)
        # When it is compared with the tables the code declares
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    finally:
        engine.dispose()
    # Then nothing is missing or extra on either side
    assert diff == []


def test_the_busiest_tables_row_ids_go_past_32_bits(database_url):
    import datetime as dt

    import sqlalchemy as sa

    # Given the tables a fleet fills fastest, after some 3 000 M rows each
    engine = make_engine(database_url)
    now = dt.datetime.now(dt.UTC)
    rows = {
        t.heartbeats: {"terminal_id": "T1", "at": now, "software_version": "1", "screen": "home",
                       "paper": "ok", "devices": []},
        t.terminal_events: {"key": "k", "terminal_id": "T1", "service_point": "p",
                            "kind": "session", "at": now, "received_at": now, "detail": {}},
        t.personal_lookups: {"terminal_id": "T1", "kind": "record", "applicant": "h", "at": now},
        t.tickets: {"service_point": "p", "day": "20261207", "seq": 1, "queue": "general",
                    "issued_at": now},
    }  # fmt: skip
    try:
        migrate(engine)
        with engine.begin() as conn:
            for table, row in rows.items():
                if conn.dialect.name == "postgresql":  # its sequence, as 3 000 M inserts leave it
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                         "'id'), 3000000000)"))  # fmt: skip
                # When the next row is written
                new = conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()
                # Then it gets the next id, past 2^31 (SQLite's rowid always could: the
                # PostgreSQL runs are the ones that tell)
                if conn.dialect.name == "postgresql":
                    assert new == 3_000_000_001, table.name
    finally:
        engine.dispose()


def test_a_terminal_s_last_use_is_taken_from_its_events_when_the_column_comes(database_url):
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from central.db import MIGRATIONS

    # Given a platform at 0015 whose terminals reported visits (one terminal never used)
    engine = make_engine(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0015")
            for tid in ("T1", "T2"):
                conn.execute(sa.text("INSERT INTO terminals (id, secret, service_point, "
                                     "enrolled_at) VALUES (:i, 's', 'p', :at)"),
                             {"i": tid, "at": now - dt.timedelta(days=9)})  # fmt: skip
            for n, hours in enumerate((30, 2, 50)):
                conn.execute(sa.text(
                    "INSERT INTO terminal_events (key, terminal_id, service_point, kind, at, "
                    "received_at, detail) VALUES (:k, 'T1', 'p', 'session', :at, :at, '{}')"),
                    {"k": f"k{n}", "at": now - dt.timedelta(hours=hours)})  # fmt: skip
        # When it is migrated to the newest
        migrate(engine)
        with engine.connect() as conn:
            got = dict(conn.execute(sa.select(t.terminals.c.id, t.terminals.c.last_used_at)).all())
    finally:
        engine.dispose()
    # Then each terminal's last use is its newest event's, and none for the one never used
    aware = {k: v if v is None or v.tzinfo else v.replace(tzinfo=dt.UTC) for k, v in got.items()}
    assert aware == {"T1": now - dt.timedelta(hours=2), "T2": None}
