"""Initial tables: terminals, enrolment, submissions, applications and stages,
tickets, ratings, heartbeats, help requests.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "terminals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("enrolled_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.Column("last_seen_at", TZ),
    )
    op.create_table(
        "enrolment_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        sa.Column("terminal_id", sa.String(64)),
    )
    op.create_table(
        "nonces",
        sa.Column("terminal_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("seen_at", TZ, nullable=False),
    )
    op.create_index("ix_nonces_seen_at", "nonces", ["seen_at"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False, unique=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("accepting_point", sa.String(32), nullable=False),
        sa.Column("local_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_submissions_local_number", "submissions", ["local_number"])
    op.create_table(
        "applications",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("submission_key", sa.String(128), sa.ForeignKey("submissions.key"),
                  nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("outcome", sa.JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )  # fmt: skip
    op.create_table(
        "stages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), sa.ForeignKey("applications.number"), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_stages_number", "stages", ["number"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service_point", sa.String(32), nullable=False),
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("terminal_id", sa.String(64)),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("called_at", TZ),
        sa.UniqueConstraint("service_point", "day", "seq"),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32)),
        sa.Column("terminal_id", sa.String(64)),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("follow_up", sa.String(16), nullable=False, server_default="none"),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("software_version", sa.String(32), nullable=False),
        sa.Column("screen", sa.String(64), nullable=False),
        sa.Column("paper", sa.String(32), nullable=False),
        sa.Column("devices", sa.JSON, nullable=False),
    )
    op.create_index("ix_heartbeats_terminal_id", "heartbeats", ["terminal_id"])
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("screen", sa.String(64), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("closed_at", TZ),
        sa.Column("closed_by", sa.String(64)),
    )


def downgrade() -> None:
    for name in ("help_requests", "heartbeats", "ratings", "tickets", "stages", "applications",
                 "submissions", "counters", "nonces", "enrolment_codes", "terminals"):  # fmt: skip
        op.drop_table(name)
