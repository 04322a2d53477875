"""The platform's tables (SQLAlchemy Core). Alembic migrations create them; keep both in step."""

from __future__ import annotations

import sqlalchemy as sa

# The id of a table a fleet fills by the million a day or keeps for ever (heartbeats'
# history, terminal events, lookups, submissions and their stages, tickets): 64 bits on
# PostgreSQL (a 32-bit one runs out within a year or two at 50 000 terminals, deleted rows
# or not); SQLite's INTEGER PRIMARY KEY is 64 bits already.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

terminals = sa.Table(
    "terminals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),  # sealed (central/sealing.py), 0004
    sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    # last_seen_at moved to terminal_state.at in 0004
    # where it stands in its hall, as its staff say it ("东侧入口 1 号机"; 0013)
    sa.Column("place", sa.String(64), nullable=False, server_default=""),
    # when a citizen last used it (its newest visit or query event; 0016)
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
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
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("accepting_point", sa.String(32), nullable=False),
    sa.Column("local_number", sa.String(64), nullable=False, server_default="", index=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    # {"life_event", "matters", "sealed"}: the body sealed at rest (central.store.sealed_body)
    sa.Column("body", sa.JSON, nullable=False),
    # a keyed hash of the applicant's ID number (SecretBox.blind): their applications by it
    sa.Column("applicant", sa.String(64), nullable=False, server_default="", index=True),
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
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
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
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
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
    sa.Column("key", sa.String(64)),  # 0002
    sa.Column("reference", sa.String(128), nullable=False, server_default=""),  # 0002
    sa.Column("assigned_to", sa.String(64)),  # 0002
)
sa.Index("ix_ratings_key", ratings.c.key, unique=True)  # 0002 made it an index


def _beat_columns() -> list[sa.Column]:
    """What a heartbeat reports, kept in ``heartbeats`` (the history) and ``terminal_state``
    (the latest): a field added to the heartbeat body is added here, once (and to a
    migration). uptime, catalog_version and config_version came with migration 0005."""
    return [
        sa.Column("software_version", sa.String(32), nullable=False),
        sa.Column("screen", sa.String(64), nullable=False),
        sa.Column("paper", sa.String(32), nullable=False),
        sa.Column("devices", sa.JSON, nullable=False),
        sa.Column("uptime", sa.Integer),
        sa.Column("catalog_version", sa.String(64)),
        sa.Column("config_version", sa.Integer),
    ]


heartbeats = sa.Table(
    "heartbeats",
    metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
    sa.Column("terminal_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    *_beat_columns(),
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
    # 0003: raised when the password is reset or changed; a cookie of an older epoch is void
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
    # 0008: wrong passwords in a row, and the lock they earned (handlers.login_post)
    sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
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
    # the device's own words when the alert opened (migration 0010)
    sa.Column("reason", sa.String(300), nullable=False, server_default=""),
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
    # how a correction notice's applicant was told, said when its alert is closed (0014)
    sa.Column("note", sa.String(200), nullable=False, server_default=""),
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

# -- hall operations (migration 0003) -----------------------------------------------------
# What terminals report beside heartbeats: one row per finished session or query, with no
# personal data (a life event code, how the visit ended, how long it took). ``key`` is the
# terminal's, so a batch sent twice is stored once; ``service_point`` is copied from the
# terminal when stored, so the volumes page filters without a join.
terminal_events = sa.Table(
    "terminal_events",
    metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # session | query
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # when it began, terminal clock
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
sa.Index("ix_terminal_events_kind_at", terminal_events.c.kind, terminal_events.c.at)
sa.Index("ix_terminal_events_point_at", terminal_events.c.service_point, terminal_events.c.at)

# Diagnostics bundles: asked for on the dashboard (state "requested"), built and uploaded by
# the terminal ("uploaded", the zip in ``content``), downloaded by a technician.
diagnostics_bundles = sa.Table(
    "diagnostics_bundles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("terminal_id", sa.String(64), nullable=False, index=True),
    sa.Column("service_point", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # requested | uploaded
    sa.Column("requested_by", sa.String(64), nullable=False, server_default=""),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True)),
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
    sa.Column("content", sa.LargeBinary),
)

# -- the fleet (migration 0004) -----------------------------------------------------------
# Each terminal's latest heartbeat, upserted by every beat (``at`` is when it was last
# seen). ``heartbeats`` above keeps the history: a row when what a beat reports about
# health changes (store.HISTORY_FIELDS) and at least one every store.HISTORY_EVERY
# (``history_at``: when its last history row was written), not one per beat: 50 000
# terminals beating every 30 s would add 144 M rows a day. Both tables take their
# heartbeat fields from ``_beat_columns``.
terminal_state = sa.Table(
    "terminal_state",
    metadata,
    sa.Column("terminal_id", sa.String(64), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    *_beat_columns(),
    sa.Column("history_at", sa.DateTime(timezone=True), nullable=False),
)

# -- remote configuration (migration 0005) --------------------------------------------------
# Settings pushed to terminals in heartbeat replies, per service point ("point") or per
# terminal ("terminal", over its point's). ``version`` comes from one counter row
# ("remote_config"), so any change anywhere gives a number no terminal has applied yet.
# 0005 also adds uptime, catalog_version and config_version (the version a terminal
# applied) to terminal_state and heartbeats.
remote_configs = sa.Table(
    "remote_configs",
    metadata,
    sa.Column("scope", sa.String(16), primary_key=True),  # point | terminal
    sa.Column("scope_id", sa.String(64), primary_key=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # the notices' own last change (0015): a timeout changed since is not a notice changed
    sa.Column("notices_by", sa.String(64), nullable=False, server_default=""),
    sa.Column("notices_at", sa.DateTime(timezone=True)),
)

# -- who looked up whose data (migration 0009) ------------------------------------------------
# One row each time a terminal asks for a citizen's own data (their applications, their
# contribution record, their photo of record for the face match): which terminal, what, when,
# and whose, as the keyed hash of the ID number (SecretBox.blind; no number in the clear).
# The same rows limit how many a terminal may ask in a while (citizen_api.note_lookup): a
# terminal's secret taken from a kiosk does not list the county's citizens one by one.
personal_lookups = sa.Table(
    "personal_lookups",
    metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),  # 0012
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # applications | record | face
    sa.Column("applicant", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_personal_lookups_terminal_at", "terminal_id", "at"),
    # migration 0011: one citizen's lookups (the audit page), and the old ones to forget
    sa.Index("ix_personal_lookups_applicant", "applicant"),
    sa.Index("ix_personal_lookups_at", "at"),
)
