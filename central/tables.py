"""The platform's tables (SQLAlchemy Core). Alembic migrations create them; keep both in step."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

terminals = sa.Table(
    "terminals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_seen_at", sa.DateTime(timezone=True)),
)

enrolment_codes = sa.Table(
    "enrolment_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("terminal_id", sa.String(64)),
)

nonces = sa.Table(
    "nonces",
    metadata,
    sa.Column("terminal_id", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# One row per counter name (e.g. "acceptance:20261123"); incremented inside the
# storing transaction so numbering holds across processes.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("accepting_point", sa.String(32), nullable=False),
    sa.Column("local_number", sa.String(64), nullable=False, server_default="", index=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("number", sa.String(32), primary_key=True),
    sa.Column(
        "submission_key",
        sa.String(128),
        sa.ForeignKey("submissions.key"),
        nullable=False,
        unique=True,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("outcome", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

stages = sa.Table(
    "stages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "number", sa.String(32), sa.ForeignKey("applications.number"), nullable=False, index=True
    ),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("day", sa.String(8), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("queue", sa.String(32), nullable=False),
    sa.Column("terminal_id", sa.String(64)),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("called_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("service_point", "day", "seq"),
)

ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(32)),
    sa.Column("terminal_id", sa.String(64)),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("follow_up", sa.String(16), nullable=False, server_default="none"),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key", sa.String(64), unique=True),  # 0002
    sa.Column("reference", sa.String(128), nullable=False, server_default=""),  # 0002
    sa.Column("assigned_to", sa.String(64)),  # 0002
)

heartbeats = sa.Table(
    "heartbeats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("terminal_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("software_version", sa.String(32), nullable=False),
    sa.Column("screen", sa.String(64), nullable=False),
    sa.Column("paper", sa.String(32), nullable=False),
    sa.Column("devices", sa.JSON, nullable=False),
)

help_requests = sa.Table(
    "help_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("screen", sa.String(64), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_by", sa.String(64)),
)

# -- the hall dashboard (migration 0002) --------------------------------------------
# ratings gain: a client-chosen key (a retried rating is stored once), the
# reference it rates, and who follows a bad one up; see ratings above.

dashboard_users = sa.Table(
    "dashboard_users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # manager | technician | admin
    sa.Column("points", sa.JSON, nullable=False),  # service point codes; [] = all (not managers)
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
)

# One row per alert; ``open_key`` is set while the alert is not closed, so the
# database (a unique key; NULLs never collide) keeps one open alert per condition
# even when several processes sweep at once.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("open_key", sa.String(200), unique=True),
    sa.Column("terminal_id", sa.String(64), nullable=False, index=True),
    sa.Column("service_point", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(200), nullable=False, server_default=""),
    sa.Column("help_request_id", sa.Integer),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cleared_at", sa.DateTime(timezone=True)),  # the condition ended by itself
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_by", sa.String(64)),
    sa.Column("closed_at", sa.DateTime(timezone=True), index=True),
    sa.Column("closed_by", sa.String(64)),
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),  # opened cleared recurred acknowledged…
    sa.Column("by", sa.String(64), nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

rating_events = sa.Table(
    "rating_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rating_id", sa.Integer, sa.ForeignKey("ratings.id"), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("by", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# the dashboard reads each terminal's latest heartbeat: one index seek per terminal
sa.Index("ix_heartbeats_terminal_latest", heartbeats.c.terminal_id, heartbeats.c.id)
