"""engine: lanes, tickets, observaciones

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('afip_tickets',
    sa.Column('cuit', sa.String(length=11), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('sign', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('cuit', 'service', name=op.f('pk_afip_tickets'))
    )
    op.create_table('lane_leases',
    sa.Column('cuit', sa.String(length=11), nullable=False),
    sa.Column('punto_venta', sa.Integer(), nullable=False),
    sa.Column('cbte_tipo', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('cuit', 'punto_venta', 'cbte_tipo', name=op.f('pk_lane_leases'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('observaciones', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('observaciones')

    op.drop_table('lane_leases')
    op.drop_table('afip_tickets')
