"""A proposal's status history: each change with when and why, for its public page.

Existing proposals get one row: their current status at their last update.

Revision ID: 0005_proposal_status_history
Revises: 0004_proposal_search
Create Date: 2026-12-02 14:40:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0005_proposal_status_history'
down_revision = '0004_proposal_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'proposal_status_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', pb_engine.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_proposal_status_change_proposal_id', 'proposal_status_change', ['proposal_id'])
    op.execute("INSERT INTO proposal_status_change (proposal_id, status, reason, note, at) "
               "SELECT id, status, 'recorded', '', updated_at FROM proposal")


def downgrade() -> None:
    op.drop_index('ix_proposal_status_change_proposal_id', table_name='proposal_status_change')
    op.drop_table('proposal_status_change')
