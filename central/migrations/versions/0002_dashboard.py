"""The hall dashboard: users, alerts with their history, rating follow-up.

Ratings gain a client-chosen key (a retried rating is stored once), the
reference rated and the person following a bad one up. Heartbeats gain an
index on (terminal_id, id) so the latest beat of each terminal is one seek.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("points", sa.JSON, nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("disabled_at", TZ),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("open_key", sa.String(200), unique=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False, server_default=""),
        sa.Column("help_request_id", sa.Integer),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("cleared_at", TZ),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("closed_at", TZ),
        sa.Column("closed_by", sa.String(64)),
    )
    op.create_index("ix_alerts_terminal_id", "alerts", ["terminal_id"])
    op.create_index("ix_alerts_service_point", "alerts", ["service_point"])
    op.create_index("ix_alerts_closed_at", "alerts", ["closed_at"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=False, server_default=""),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_table(
        "rating_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rating_id", sa.Integer, sa.ForeignKey("ratings.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_rating_events_rating_id", "rating_events", ["rating_id"])
    # plain ADD COLUMN works on SQLite too; the unique key is an index, which SQLite allows later
    op.add_column("ratings", sa.Column("key", sa.String(64)))
    op.add_column("ratings", sa.Column("reference", sa.String(128), nullable=False,
                                       server_default=""))  # fmt: skip
    op.add_column("ratings", sa.Column("assigned_to", sa.String(64)))
    op.create_index("ix_ratings_key", "ratings", ["key"], unique=True)
    op.create_index("ix_heartbeats_terminal_latest", "heartbeats", ["terminal_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_heartbeats_terminal_latest", "heartbeats")
    op.drop_index("ix_ratings_key", "ratings")
    with op.batch_alter_table("ratings") as batch:
        for name in ("assigned_to", "reference", "key"):
            batch.drop_column(name)
    for name in ("rating_events", "alert_events", "alerts", "dashboard_users"):
        op.drop_table(name)
