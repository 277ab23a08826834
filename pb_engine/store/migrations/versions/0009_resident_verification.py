"""Sign-up by e-mail and verified residents for endorsements (issue 13, registration): a resident's
e-mail address, whether the account is still waiting for its e-mailed link (and the link's hash and expiry),
and who may endorse in a round.

Revision ID: 0009_resident_verification
Revises: 0008_voter_binding
Create Date: 2026-12-02 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0009_resident_verification'
down_revision = '0008_voter_binding'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts made before this revision signed in at once: they stay active (pending false).
    op.add_column('resident', sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('resident', sa.Column('pending', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('resident', sa.Column('confirm_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('resident', sa.Column('confirm_expires_at', pb_engine.store.types.UTCDateTime(), nullable=True))
    op.create_index('ix_resident_confirm_hash', 'resident', ['confirm_hash'])
    op.add_column('pb_round', sa.Column('endorsement_requires', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                        server_default='account'))


def downgrade() -> None:
    with op.batch_alter_table('pb_round') as batch:
        batch.drop_column('endorsement_requires')
    op.drop_index('ix_resident_confirm_hash', table_name='resident')
    with op.batch_alter_table('resident') as batch:
        batch.drop_column('confirm_expires_at')
        batch.drop_column('confirm_hash')
        batch.drop_column('pending')
        batch.drop_column('email')
