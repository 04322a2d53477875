"""When a citizen last used each terminal (a visit, a query, a ticket), kept on the terminal
as its events arrive: the terminal page says which terminal nobody has used for a day, with
one read of the fleet's rows, not a scan of a day's events at every build.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("terminals", sa.Column("last_used_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE terminals SET last_used_at = (SELECT max(e.at) FROM terminal_events e "
               "WHERE e.terminal_id = terminals.id)")


def downgrade() -> None:
    with op.batch_alter_table("terminals") as batch:
        batch.drop_column("last_used_at")
