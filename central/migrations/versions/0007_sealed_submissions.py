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


def _bodies(conn, keys: list[str]) -> list:
    rows = conn.execute(sa.select(submissions.c.key, submissions.c.body)
                        .where(submissions.c.key.in_(keys))).all()  # fmt: skip
    return [(key, json.loads(body) if isinstance(body, str) else body) for key, body in rows]


def _each_chunk(conn):
    """The submissions' (key, body), a few hundred at a time (a county's history)."""
    keys = conn.execute(sa.select(submissions.c.key).order_by(submissions.c.key)).scalars().all()
    for i in range(0, len(keys), 500):
        yield _bodies(conn, keys[i : i + 500])


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":  # what is deleted or rewritten below is zeroed, not left
        op.execute("PRAGMA secure_delete = ON")  # in free pages (the old index holds every number)
    op.execute(f"DROP INDEX {APPLICANT_INDEX}")
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("applicant", sa.String(64), nullable=False, server_default=""))
    box = None
    for chunk in _each_chunk(conn):
        for key, body in chunk:
            if "sealed" in body:
                continue
            box = box or _box()  # a database of plain submissions needs the key
            kept, applicant = sealed_body(box, key, body)
            conn.execute(submissions.update().where(submissions.c.key == key)
                         .values(body=kept, applicant=applicant))  # fmt: skip
    op.create_index(APPLICANT_INDEX, "submissions", ["applicant"])


def downgrade() -> None:
    op.drop_index(APPLICANT_INDEX, "submissions")
    conn = op.get_bind()
    box = None
    for chunk in _each_chunk(conn):
        for key, body in chunk:
            if "sealed" in body:
                box = box or _box()
                conn.execute(submissions.update().where(submissions.c.key == key)
                             .values(body=open_body(box, key, body)))  # fmt: skip
    # a plain ALTER TABLE … DROP COLUMN: copying the table would trip the applications'
    # foreign key to it
    with op.batch_alter_table("submissions", recreate="never") as batch:
        batch.drop_column("applicant")
    from central.store import applicant_sql

    sql = applicant_sql(conn.dialect.name, qualified=False)
    op.execute(f"CREATE INDEX {APPLICANT_INDEX} ON submissions (({sql}))")
