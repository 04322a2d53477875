"""The fleet: each terminal's latest heartbeat in ``terminal_state`` (upserted, not a scan
of the history), and terminal secrets sealed at rest (central/sealing.py).

``terminals.last_seen_at`` becomes ``terminal_state.at``. Secrets still in plain text
are sealed with the key central.db.migrate hands in (``attributes["secret_box"]``);
without one, a database holding plain secrets is refused rather than left as it is.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _box():
    from central.db import migration_secret_box

    return migration_secret_box("terminal secrets")


def upgrade() -> None:
    op.create_table(
        "terminal_state",
        sa.Column("terminal_id", sa.String(64), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("software_version", sa.String(32), nullable=False),
        sa.Column("screen", sa.String(64), nullable=False),
        sa.Column("paper", sa.String(32), nullable=False),
        sa.Column("devices", sa.JSON, nullable=False),
        sa.Column("history_at", TZ, nullable=False),
    )
    op.execute(
        "INSERT INTO terminal_state (terminal_id, at, software_version, screen, paper, devices,"
        " history_at)"
        " SELECT h.terminal_id, COALESCE(t.last_seen_at, h.at), h.software_version, h.screen,"
        " h.paper, h.devices, h.at FROM heartbeats h JOIN terminals t ON t.id = h.terminal_id"
        " WHERE h.id = (SELECT max(l.id) FROM heartbeats l WHERE l.terminal_id = h.terminal_id)"
    )
    with op.batch_alter_table("terminals") as batch:
        batch.drop_column("last_seen_at")
    from central.sealing import is_sealed

    conn = op.get_bind()
    terminals = sa.table("terminals", sa.column("id"), sa.column("secret"))
    plain = [r for r in conn.execute(sa.select(terminals.c.id, terminals.c.secret))
             if not is_sealed(r.secret)]  # fmt: skip
    if plain:
        box = _box()
        for r in plain:
            conn.execute(terminals.update().where(terminals.c.id == r.id)
                         .values(secret=box.seal(r.secret, r.id)))  # fmt: skip


def downgrade() -> None:
    from central.sealing import is_sealed

    conn = op.get_bind()
    terminals = sa.table("terminals", sa.column("id"), sa.column("secret"))
    sealed = [r for r in conn.execute(sa.select(terminals.c.id, terminals.c.secret))
              if is_sealed(r.secret)]  # fmt: skip
    if sealed:
        box = _box()
        for r in sealed:
            conn.execute(terminals.update().where(terminals.c.id == r.id)
                         .values(secret=box.open(r.secret, r.id)))  # fmt: skip
    with op.batch_alter_table("terminals") as batch:
        batch.add_column(sa.Column("last_seen_at", TZ))
    op.execute(
        "UPDATE terminals SET last_seen_at ="
        " (SELECT s.at FROM terminal_state s WHERE s.terminal_id = terminals.id)"
    )
    op.drop_table("terminal_state")
