"""Instant emission and abonos on invoices; afip_health for estado_servicios

Revision ID: 0008
Revises: 0007

``invoices`` gains ``instant`` (an instant request waiting or answered late), the abono columns
(``abono``, ``recurrencia``, ``abono_siguiente``) and their indexes. The idempotency index now
holds one live invoice per (point of sale, external_reference, recurrence) and leaves out instant
invoices sent without a reference. Existing invoices are recurrence 0 of no abono.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = "state IN ('queued', 'processing', 'emitted')"
LIVE_REFERENCE = LIVE + " AND external_reference <> ''"


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instant", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("abono", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recurrencia", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("abono_siguiente", sa.Date(), nullable=True))
    op.drop_index("uq_invoices_live_external_reference", table_name="invoices")
    op.create_index(
        "uq_invoices_live_external_reference", "invoices", ["pdv_id", "external_reference", "recurrencia"],
        unique=True, **_where(LIVE_REFERENCE),
    )
    op.create_index("ix_invoices_pdv_queued", "invoices", ["pdv_id"], **_where("state = 'queued' AND instant IS NULL"))
    op.create_index(
        "ix_invoices_instant_waiting", "invoices", ["cuit", "punto_venta", "cbte_tipo"],
        **_where("state = 'queued' AND instant = 'waiting'"),
    )
    op.create_index(
        "ix_invoices_abono_siguiente", "invoices", ["cuit", "punto_venta", "cbte_tipo"],
        **_where("abono_siguiente IS NOT NULL"),
    )
    op.create_table(
        "afip_health",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("failing_since", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_afip_health")),
    )


def downgrade() -> None:
    op.drop_table("afip_health")
    op.drop_index("ix_invoices_abono_siguiente", table_name="invoices")
    op.drop_index("ix_invoices_instant_waiting", table_name="invoices")
    op.drop_index("ix_invoices_pdv_queued", table_name="invoices")
    op.drop_index("uq_invoices_live_external_reference", table_name="invoices")
    op.create_index(
        "uq_invoices_live_external_reference", "invoices", ["pdv_id", "external_reference"], unique=True, **_where(LIVE)
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("abono_siguiente")
        batch_op.drop_column("recurrencia")
        batch_op.drop_column("abono")
        batch_op.drop_column("instant")
