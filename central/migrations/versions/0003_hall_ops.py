"""Hall operations: terminal events (sessions, queries) for the volumes page, diagnostics
bundles, and a session epoch per dashboard user (a reset password ends old sessions).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "terminal_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_terminal_events_kind_at", "terminal_events", ["kind", "at"])
    op.create_index("ix_terminal_events_point_at", "terminal_events", ["service_point", "at"])
    op.create_table(
        "diagnostics_bundles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("uploaded_at", TZ),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("content", sa.LargeBinary),
    )
    op.create_index("ix_diagnostics_bundles_terminal_id", "diagnostics_bundles", ["terminal_id"])
    op.add_column("dashboard_users", sa.Column("session_epoch", sa.Integer, nullable=False,
                                               server_default="0"))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_column("session_epoch")
    op.drop_table("diagnostics_bundles")
    op.drop_table("terminal_events")
