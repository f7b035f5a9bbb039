"""initial schema

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('workspaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nombre', sa.String(length=255), nullable=False),
    sa.Column('activo', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('cupo_mensual', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspaces'))
    )
    op.create_table('pdvs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('cuit', sa.String(length=11), nullable=False),
    sa.Column('punto_venta', sa.Integer(), nullable=False),
    sa.Column('razon_social', sa.String(length=255), nullable=False),
    sa.Column('condicion_iva', sa.String(length=4), nullable=False),
    sa.Column('conceptos', sa.String(length=2), nullable=False),
    sa.Column('webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('webhook_token', sa.String(length=255), nullable=False),
    sa.Column('apikey', sa.String(length=20), nullable=False),
    sa.Column('usertoken_hash', sa.String(length=64), nullable=False),
    sa.Column('apitoken_hash', sa.String(length=64), nullable=False),
    sa.Column('activo', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('cert_pem', sa.Text(), nullable=True),
    sa.Column('key_pem', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_pdvs_workspace_id_workspaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdvs')),
    sa.UniqueConstraint('apikey', name=op.f('uq_pdvs_apikey')),
    sa.UniqueConstraint('cuit', 'punto_venta', name=op.f('uq_pdvs_cuit_punto_venta'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pdv_id', sa.Integer(), nullable=False),
    sa.Column('cuit', sa.String(length=11), nullable=False),
    sa.Column('punto_venta', sa.Integer(), nullable=False),
    sa.Column('cbte_tipo', sa.Integer(), nullable=False),
    sa.Column('tipo', sa.String(length=64), nullable=False),
    sa.Column('external_reference', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('fecha', sa.Date(), nullable=False),
    sa.Column('vencimiento', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('numero', sa.Integer(), nullable=True),
    sa.Column('cae', sa.String(length=14), nullable=True),
    sa.Column('cae_vencimiento', sa.Date(), nullable=True),
    sa.Column('afip_qr', sa.Text(), nullable=True),
    sa.Column('afip_codigo_barras', sa.String(length=64), nullable=True),
    sa.Column('errors', sa.Text(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('total', sa.String(length=20), nullable=False),
    sa.Column('afip', sa.Text(), nullable=False),
    sa.Column('view', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('emitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['pdv_id'], ['pdvs.id'], name=op.f('fk_invoices_pdv_id_pdvs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_due', ['state', 'fecha', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_invoices_lane', ['cuit', 'punto_venta', 'cbte_tipo', 'state', 'fecha', 'id'], unique=False)
        batch_op.create_index('ix_invoices_pdv_created', ['pdv_id', 'created_at'], unique=False)
        batch_op.create_index('ix_invoices_pdv_ext_ref', ['pdv_id', 'external_reference'], unique=False)
        batch_op.create_index('ix_invoices_pdv_fecha', ['pdv_id', 'fecha'], unique=False)
        batch_op.create_index('ix_invoices_pdv_numero', ['pdv_id', 'cbte_tipo', 'numero'], unique=False)
        batch_op.create_index('uq_invoices_live_external_reference', ['pdv_id', 'external_reference'], unique=True, sqlite_where=sa.text("state IN ('queued', 'processing', 'emitted')"), postgresql_where=sa.text("state IN ('queued', 'processing', 'emitted')"))

    op.create_table('hook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hook_id', sa.String(length=36), nullable=False),
    sa.Column('pdv_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('recurso', sa.String(length=20), nullable=False),
    sa.Column('evento', sa.String(length=20), nullable=False),
    sa.Column('external_reference', sa.String(length=255), nullable=False),
    sa.Column('msg', sa.Text(), nullable=False),
    sa.Column('creado', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_hook_events_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['pdv_id'], ['pdvs.id'], name=op.f('fk_hook_events_pdv_id_pdvs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook_events')),
    sa.UniqueConstraint('hook_id', name=op.f('uq_hook_events_hook_id'))
    )
    with op.batch_alter_table('hook_events', schema=None) as batch_op:
        batch_op.create_index('ix_hook_events_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_hook_events_pdv', ['pdv_id', 'id'], unique=False)

    op.create_table('hook_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('intento', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['hook_events.id'], name=op.f('fk_hook_attempts_event_id_hook_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook_attempts'))
    )
    with op.batch_alter_table('hook_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_hook_attempts_event', ['event_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('hook_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_hook_attempts_event')

    op.drop_table('hook_attempts')
    with op.batch_alter_table('hook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_hook_events_pdv')
        batch_op.drop_index('ix_hook_events_due')

    op.drop_table('hook_events')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('uq_invoices_live_external_reference', sqlite_where=sa.text("state IN ('queued', 'processing', 'emitted')"), postgresql_where=sa.text("state IN ('queued', 'processing', 'emitted')"))
        batch_op.drop_index('ix_invoices_pdv_numero')
        batch_op.drop_index('ix_invoices_pdv_fecha')
        batch_op.drop_index('ix_invoices_pdv_ext_ref')
        batch_op.drop_index('ix_invoices_pdv_created')
        batch_op.drop_index('ix_invoices_lane')
        batch_op.drop_index('ix_invoices_due')

    op.drop_table('invoices')
    op.drop_table('pdvs')
    op.drop_table('workspaces')
    
