"""Where a terminal stands in its hall, in the words its staff use ("东侧入口 1 号机"): set by
a technician on the dashboard, shown beside its id wherever the dashboard names it, so a
hall manager knows which machine to walk to.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("terminals", sa.Column("place", sa.String(64), nullable=False,
                                         server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("terminals") as batch:
        batch.drop_column("place")
