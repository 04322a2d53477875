"""Who last changed a hall's notices, and when, apart from its other settings: the notices
page said a technician's change of the timeouts was the notices' last change.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("remote_configs", sa.Column("notices_by", sa.String(64), nullable=False,
                                              server_default=""))
    op.add_column("remote_configs", sa.Column("notices_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("remote_configs") as batch:
        batch.drop_column("notices_at")
        batch.drop_column("notices_by")
