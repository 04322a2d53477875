"""Who looked up whose data: a row per lookup of a citizen's own data by a terminal
(central/tables.py ``personal_lookups``), also what limits a terminal's lookups.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_lookups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_personal_lookups_terminal_at", "personal_lookups", ["terminal_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_personal_lookups_terminal_at", "personal_lookups")
    op.drop_table("personal_lookups")
