"""Submissions sealed at rest: each body sealed with the platform key (central/sealing.py)
for its submission key, only its bundle and matters left in the open (the dashboard counts
them), and the applicant found by a keyed hash of their ID number in ``applicant`` instead
of the ID number inside the plain body (the index of 0006 moves to that column).

Bodies stored in plain text are sealed with the key central.db.migrate hands in
(``attributes["secret_box"]``); without one, a database holding plain bodies is refused
rather than left as it is.

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

from central.store import APPLICANT_INDEX, open_body, sealed_body

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

submissions = sa.table("submissions", sa.column("key"), sa.column("body", sa.JSON),
                       sa.column("applicant"))  # fmt: skip


def _box():
    from central.db import migration_secret_box

    return migration_secret_box("submissions")


def _rows(conn) -> list:
    rows = conn.execute(sa.select(submissions.c.key, submissions.c.body)).all()
    return [(key, json.loads(body) if isinstance(body, str) else body) for key, body in rows]


def upgrade() -> None:
    op.execute(f"DROP INDEX {APPLICANT_INDEX}")
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("applicant", sa.String(64), nullable=False, server_default=""))
    conn = op.get_bind()
    plain = [(key, body) for key, body in _rows(conn) if "sealed" not in body and body.get("fields")]
    if plain:
        box = _box()
        if conn.dialect.name == "sqlite":  # the plain rows' old bytes are zeroed, not left free
            op.execute("PRAGMA secure_delete = ON")
        for key, body in plain:
            kept, applicant = sealed_body(box, key, body)
            conn.execute(submissions.update().where(submissions.c.key == key)
                         .values(body=kept, applicant=applicant))  # fmt: skip
    op.create_index(APPLICANT_INDEX, "submissions", ["applicant"])


def downgrade() -> None:
    op.drop_index(APPLICANT_INDEX, "submissions")
    conn = op.get_bind()
    sealed = [(key, body) for key, body in _rows(conn) if "sealed" in body]
    if sealed:
        box = _box()
        for key, body in sealed:
            conn.execute(submissions.update().where(submissions.c.key == key)
                         .values(body=open_body(box, key, body)))  # fmt: skip
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("applicant")
    from central.store import applicant_sql

    sql = applicant_sql(op.get_bind().dialect.name, qualified=False)
    op.execute(f"CREATE INDEX {APPLICANT_INDEX} ON submissions (({sql}))")
