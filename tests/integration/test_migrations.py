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
