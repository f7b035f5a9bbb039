"""AFIP attempts per invoice, for the operators' console

Revision ID: 0010
Revises: 0009

One row per invoice per AFIP call that carried or looked it up (FECAESolicitar, FECompConsultar):
the lane, the call it rode in (``batch_id``), when, how long, what came of it and AFIP's codes and
messages. Written by the engine with the results it already records; pruned by age.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "afip_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("cuit", sa.String(length=11), nullable=False),
        sa.Column("punto_venta", sa.Integer(), nullable=False),
        sa.Column("cbte_tipo", sa.Integer(), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_afip_attempts")),
    )
    op.create_index("ix_afip_attempts_invoice_id", "afip_attempts", ["invoice_id"])
    op.create_index("ix_afip_attempts_started_at", "afip_attempts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_afip_attempts_started_at", table_name="afip_attempts")
    op.drop_index("ix_afip_attempts_invoice_id", table_name="afip_attempts")
    op.drop_table("afip_attempts")
