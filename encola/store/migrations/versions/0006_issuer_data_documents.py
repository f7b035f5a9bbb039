"""Issuer data for documents: versions per point of sale; each invoice keeps its version and AFIP env

Revision ID: 0006
Revises: 0005

Every point of sale gets its first issuer version (razón social, CUIT and condición IVA: the rest
did not exist before), and every emitted invoice that version. An emitted invoice's ``afip_env``
is what the process running this upgrade is configured for (``ENCOLA_AFIP_URL`` → simulador,
else ``ENCOLA_AFIP_ENV``, else the embedded simulator): the best guess there is for CAEs obtained
before encola recorded where each one came from.
"""

import json
import os
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pdv_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["pdv_id"], ["pdvs.id"], name=op.f("fk_issuers_pdv_id_pdvs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuers")),
    )
    op.create_index("ix_issuers_pdv_id", "issuers", ["pdv_id"], unique=False)
    with op.batch_alter_table("pdvs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("domicilio", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("iibb", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("inicio_actividades", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("mail_reply_to", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("issuer_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("afip_env", sa.String(length=16), nullable=True))
    _first_versions()


def _first_versions() -> None:
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    issuers = sa.table(
        "issuers", sa.column("id", sa.Integer), sa.column("pdv_id", sa.Integer),
        sa.column("snapshot", sa.Text), sa.column("created_at", sa.DateTime),
    )
    pdvs = sa.table(
        "pdvs", sa.column("id", sa.Integer), sa.column("cuit", sa.String), sa.column("razon_social", sa.String),
        sa.column("condicion_iva", sa.String), sa.column("issuer_id", sa.Integer),
    )
    invoices = sa.table(
        "invoices", sa.column("pdv_id", sa.Integer), sa.column("state", sa.String),
        sa.column("issuer_id", sa.Integer), sa.column("afip_env", sa.String),
    )
    for pdv in bind.execute(sa.select(pdvs.c.id, pdvs.c.cuit, pdvs.c.razon_social, pdvs.c.condicion_iva)).all():
        snapshot = {  # encola.documents.IssuerSnapshot.to_json(), as it was at this revision
            "razon_social": pdv.razon_social, "cuit": pdv.cuit, "condicion_iva": pdv.condicion_iva,
            "domicilio": None, "iibb": None, "inicio_actividades": None, "logo": None,
        }
        issuer_id = bind.execute(
            sa.insert(issuers).values(
                pdv_id=pdv.id, snapshot=json.dumps(snapshot, sort_keys=True, ensure_ascii=False), created_at=now
            ).returning(issuers.c.id)
        ).scalar_one()
        bind.execute(sa.update(pdvs).where(pdvs.c.id == pdv.id).values(issuer_id=issuer_id))
        bind.execute(
            sa.update(invoices)
            .where(invoices.c.pdv_id == pdv.id, invoices.c.state == "emitted")
            .values(issuer_id=issuer_id, afip_env=_configured_env())
        )


def _configured_env() -> str:
    if os.environ.get("ENCOLA_AFIP_URL"):
        return "simulador"
    return os.environ.get("ENCOLA_AFIP_ENV") if os.environ.get("ENCOLA_AFIP_ENV") in ("homologacion", "produccion") else "simulador"


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("afip_env")
        batch_op.drop_column("issuer_id")
    with op.batch_alter_table("pdvs", schema=None) as batch_op:
        for column in ("issuer_id", "mail_reply_to", "logo", "inicio_actividades", "iibb", "domicilio"):
            batch_op.drop_column(column)
    op.drop_index("ix_issuers_pdv_id", table_name="issuers")
    op.drop_table("issuers")
