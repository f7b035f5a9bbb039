"""Index the hook events' leases: the claim counts each point of sale's deliveries in flight

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hook_events_locked", "hook_events", ["locked_until", "pdv_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hook_events_locked", table_name="hook_events")
