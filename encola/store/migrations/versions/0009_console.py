"""Operator console: operators, their workspaces, sessions; indexes for the queue and search pages

Revision ID: 0009
Revises: 0008

``operators`` (argon2 password hashes), ``operator_workspaces`` (the workspaces each one sees;
``operators.all_workspaces`` for every one) and ``operator_sessions`` (server-side sessions: the
cookie carries a random token, the table only its SHA-256). Two indexes on ``invoices`` serve the
console: the queue summary reads only the live backlog through a covering index, and the search
pages keyset over ``id`` per point of sale and state.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("all_workspaces", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("activo", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("email", name=op.f("uq_operators_email")),
    )
    op.create_table(
        "operator_workspaces",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], name=op.f("fk_operator_workspaces_operator_id_operators")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_operator_workspaces_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("operator_id", "workspace_id", name=op.f("pk_operator_workspaces")),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], name=op.f("fk_operator_sessions_operator_id_operators")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_operator_sessions")),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_index(
        "ix_invoices_console_queue", "invoices", ["state", "pdv_id", "cbte_tipo", "fecha", "next_attempt_at"]
    )
    op.create_index("ix_invoices_console_state", "invoices", ["pdv_id", "state", "id"])
    op.create_index("ix_invoices_console_pdv", "invoices", ["pdv_id", "id"])
    # --- console actions: the audit log (operator_id without a foreign key, so an entry outlives
    # its operator) and paused lanes (the engine claims no paused lane).
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_email", sa.String(length=320), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_workspace_id_id", "audit_log", ["workspace_id", "id"])
    with op.batch_alter_table("lane_leases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("lane_leases", schema=None) as batch_op:  # console actions
        batch_op.drop_column("paused")
    op.drop_index("ix_audit_log_workspace_id_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_invoices_console_pdv", table_name="invoices")
    op.drop_index("ix_invoices_console_state", table_name="invoices")
    op.drop_index("ix_invoices_console_queue", table_name="invoices")
    op.drop_index("ix_operator_sessions_operator_id", table_name="operator_sessions")
    op.drop_table("operator_sessions")
    op.drop_table("operator_workspaces")
    op.drop_table("operators")
