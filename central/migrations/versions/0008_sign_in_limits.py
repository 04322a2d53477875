"""Sign-in limits on the dashboard: failed attempts counted per account, and a lock for a
while after too many (central/dashboard/handlers.py login_post), in the database so that
every worker process counts the same attempts.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dashboard_users", sa.Column("failed_sign_ins", sa.Integer, nullable=False,
                                               server_default="0"))  # fmt: skip
    op.add_column("dashboard_users", sa.Column("locked_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_sign_ins")
