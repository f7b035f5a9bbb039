"""The outbox carries the buyer's e-mail too: hook_events.kind; invoices' mail columns

Revision ID: 0007
Revises: 0006

Existing events are hooks (``kind`` "hook"). The due index leads with the kind, so a claim for one
kind never reads through the other's backlog.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hook_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default=sa.text("'hook'"), nullable=False))
        batch_op.drop_index("ix_hook_events_due")
        batch_op.create_index("ix_hook_events_due", ["state", "kind", "next_attempt_at"], unique=False)
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_to", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("mail_sent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("mail_sent_to", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("mail_sent_to")
        batch_op.drop_column("mail_sent_at")
        batch_op.drop_column("mail_to")
    with op.batch_alter_table("hook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_hook_events_due")
        batch_op.create_index("ix_hook_events_due", ["state", "next_attempt_at"], unique=False)
        batch_op.drop_column("kind")
