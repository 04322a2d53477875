"""Progress by ID number (with the card present): an index on the applicant's ID number
inside each submission's body, so a citizen's applications are found without a scan.

The expression is the one ``central.store.applicant_of`` queries with, per dialect.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from central.store import APPLICANT_INDEX, applicant_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sql = applicant_sql(op.get_bind().dialect.name, qualified=False)
    op.execute(f"CREATE INDEX {APPLICANT_INDEX} ON submissions (({sql}))")


def downgrade() -> None:
    op.execute(f"DROP INDEX {APPLICANT_INDEX}")
