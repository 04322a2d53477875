"""An alert keeps what the device itself said when it opened (its driver's words for a
technician: "cover open: close the printer cover"), so the alerts page can show it after the
terminal has moved on.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("reason", sa.String(300), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("reason")
