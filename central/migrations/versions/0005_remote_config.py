"""Remote configuration and what heartbeats add: settings per service point or terminal
(timeouts, attract-screen notices, elderly-mode default) with a version, and each beat's
uptime, catalog version and the remote-settings version the terminal applied.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
BEAT_TABLES = ("terminal_state", "heartbeats")


def upgrade() -> None:
    op.create_table(
        "remote_configs",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("scope_id", sa.String(64), primary_key=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    for table in BEAT_TABLES:
        op.add_column(table, sa.Column("uptime", sa.Integer))
        op.add_column(table, sa.Column("catalog_version", sa.String(64)))
        op.add_column(table, sa.Column("config_version", sa.Integer))


def downgrade() -> None:
    for table in BEAT_TABLES:
        with op.batch_alter_table(table) as batch:
            for name in ("config_version", "catalog_version", "uptime"):
                batch.drop_column(name)
    op.drop_table("remote_configs")
