"""An index on hook_events.invoice_id

Revision ID: 0013
Revises: 0012

The console's invoice page and ``encola invoices show`` list an invoice's hooks and mails by
``invoice_id``; without an index that read every event ever written (one or more per invoice),
and deleting invoices checked the foreign key the same way, row by row. Building it holds writes
to hook_events for a few seconds per million events (migrations run in one transaction, where
PostgreSQL's CREATE INDEX CONCURRENTLY cannot).
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hook_events_invoice", "hook_events", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_hook_events_invoice", table_name="hook_events")
