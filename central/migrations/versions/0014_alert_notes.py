"""A word with an alert's step: closing a correction notice's alert (收件待补正) says how the
applicant was told ("已电话告知补交材料"), kept in its history for whoever asks later whether
the citizen was ever contacted.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_events", sa.Column("note", sa.String(200), nullable=False,
                                            server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_column("note")
