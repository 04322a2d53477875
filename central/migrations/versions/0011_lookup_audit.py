"""The audit page of personal-data lookups: one citizen's lookups found by the keyed hash
of their ID number, and lookups past their keeping time forgotten (by time).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_personal_lookups_applicant", "personal_lookups", ["applicant"])
    op.create_index("ix_personal_lookups_at", "personal_lookups", ["at"])


def downgrade() -> None:
    op.drop_index("ix_personal_lookups_at", "personal_lookups")
    op.drop_index("ix_personal_lookups_applicant", "personal_lookups")
