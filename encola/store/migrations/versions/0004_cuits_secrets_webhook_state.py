"""CUITs owned by one workspace, secrets sealed, webhook signing and disabling

Revision ID: 0004
Revises: 0003

Each CUIT gets a row of its own, owned by the workspace of its first point of sale, and its
certificate and key move there from its points of sale (once per CUIT). Keys and webhook tokens
are sealed by ``encola.store.secrets_at_rest`` when a process opens the database, since a
migration has no key to seal them with.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cuits",
        sa.Column("cuit", sa.String(length=11), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=True),
        sa.Column("key_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_cuits_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("cuit", name=op.f("pk_cuits")),
    )
    op.create_index("ix_cuits_workspace_id", "cuits", ["workspace_id"], unique=False)
    op.create_table(
        "meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_meta")),
    )
    # Each CUIT to the workspace of its first point of sale, with the first certificate found.
    op.execute(
        """
        INSERT INTO cuits (cuit, workspace_id, cert_pem, key_pem, created_at, updated_at)
        SELECT p.cuit, p.workspace_id,
               (SELECT c.cert_pem FROM pdvs c WHERE c.cuit = p.cuit AND c.cert_pem IS NOT NULL ORDER BY c.id LIMIT 1),
               (SELECT c.key_pem FROM pdvs c WHERE c.cuit = p.cuit AND c.cert_pem IS NOT NULL ORDER BY c.id LIMIT 1),
               p.created_at, p.updated_at
        FROM pdvs p
        WHERE p.id = (SELECT min(q.id) FROM pdvs q WHERE q.cuit = p.cuit)
        """
    )
    with op.batch_alter_table("pdvs", schema=None) as batch_op:
        batch_op.drop_column("cert_pem")
        batch_op.drop_column("key_pem")
        batch_op.alter_column("webhook_token", existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_previous", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_previous_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("webhook_failing_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("webhook_disabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("webhook_disabled_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_pdvs_cuit_cuits"), "cuits", ["cuit"], ["cuit"])
    with op.batch_alter_table("hook_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_start", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("hook_events", schema=None) as batch_op:
        batch_op.drop_column("schedule_start")
    with op.batch_alter_table("pdvs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_pdvs_cuit_cuits"), type_="foreignkey")
        for column in (
            "webhook_disabled_reason",
            "webhook_disabled_at",
            "webhook_failing_since",
            "webhook_secret_previous_until",
            "webhook_secret_previous",
            "webhook_secret",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("webhook_token", existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=False)
        batch_op.add_column(sa.Column("key_pem", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cert_pem", sa.Text(), nullable=True))
    op.drop_table("meta")
    op.drop_index("ix_cuits_workspace_id", table_name="cuits")
    op.drop_table("cuits")
