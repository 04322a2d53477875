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


def test_the_history_s_row_ids_go_past_32_bits(database_url):
    import datetime as dt

    import sqlalchemy as sa

    # Given the heartbeats' history after some 3 000 M rows (a fleet's year and a half)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        beat = {"terminal_id": "T1", "at": dt.datetime.now(dt.UTC), "software_version": "1",
                "screen": "home", "paper": "ok", "devices": []}  # fmt: skip
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('heartbeats', 'id'), "
                                     "3000000000)"))  # fmt: skip
            else:
                conn.execute(t.heartbeats.insert().values(id=3_000_000_000, **beat))
            # When the next row is written
            new = conn.execute(t.heartbeats.insert().values(**beat).returning(t.heartbeats.c.id))
            # Then it gets the next id, past 2^31
            assert new.scalar_one() == 3_000_000_001
    finally:
        engine.dispose()
