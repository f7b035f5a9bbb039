"""The buyer's document number as a column of its own, for the console's search by buyer

Revision ID: 0011
Revises: 0010

Until now the number lived only inside ``view`` (the consulta's JSON), so finding a buyer's
invoices read the JSON text of every invoice the other filters left: about a second over a
million invoices. ``doc_nro`` (the digits, without the trailing space TF writes in ``view``) is
written at intake, copied to an abono's recurrences, and indexed per point of sale newest first.
Existing invoices are filled from their ``view``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc_nro", sa.String(length=20), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        number = "(view::json -> 'cliente' ->> 'documento_nro')"
    else:
        number = "json_extract(view, '$.cliente.documento_nro')"
    op.execute(f"UPDATE invoices SET doc_nro = NULLIF(TRIM({number}), '')")
    op.create_index("ix_invoices_console_doc", "invoices", ["pdv_id", "doc_nro", "id"])


def downgrade() -> None:
    op.drop_index("ix_invoices_console_doc", table_name="invoices")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("doc_nro")
