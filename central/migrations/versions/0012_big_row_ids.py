"""64-bit ids for the tables a fleet fills by the million a day or keeps for ever (the
heartbeats' history, terminal events, personal-data lookups, submissions, their stages,
tickets) on PostgreSQL: a 32-bit id, and the sequence behind it, runs out within a year or two
at 50 000 terminals, old rows deleted or not. SQLite's INTEGER PRIMARY KEY is 64 bits
already: nothing to do there.

On a large PostgreSQL table the type change rewrites the table under a lock, and every
``central serve`` migrates as it starts: run ``central migrate`` in a quiet hour BEFORE
restarting the servers on this version (they then find nothing left to do).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("heartbeats", "terminal_events", "personal_lookups", "submissions", "stages", "tickets")


def _change(to: type[sa.types.TypeEngine], sequence_as: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        op.alter_column(table, "id", type_=to(), existing_nullable=False)
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                {"t": table}).scalar()  # fmt: skip
        if sequence:
            op.execute(f"ALTER SEQUENCE {sequence} AS {sequence_as}")


def upgrade() -> None:
    _change(sa.BigInteger, "bigint")


def downgrade() -> None:
    _change(sa.Integer, "integer")
