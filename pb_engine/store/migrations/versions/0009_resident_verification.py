"""Sign-up by e-mail and verified residents for endorsements (issue 13, registration): a resident's
e-mail address, whether the account is still waiting for its e-mailed link (and the link's hash and expiry),
who may endorse in a round, and the verification codes staff issue to residents.

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
    op.create_table(
        'residentcode',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('city_id', sa.Integer(), nullable=False),
        sa.Column('district_slug', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_by', sa.Integer(), nullable=True),
        sa.Column('issued_at', pb_engine.store.types.UTCDateTime(), nullable=False),
        sa.Column('used_by', sa.Integer(), nullable=True),
        sa.Column('used_at', pb_engine.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['city_id'], ['city.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by'], ['staffuser.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['used_by'], ['resident.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
    )
    op.create_index('ix_residentcode_city_id', 'residentcode', ['city_id'])
    op.create_index('ix_residentcode_issued_by', 'residentcode', ['issued_by'])
    op.create_index('ix_residentcode_used_by', 'residentcode', ['used_by'])
    op.add_column('pb_round', sa.Column('endorsement_requires', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                        server_default='account'))


def downgrade() -> None:
    op.drop_table('residentcode')
    with op.batch_alter_table('pb_round') as batch:
        batch.drop_column('endorsement_requires')
    op.drop_index('ix_resident_confirm_hash', table_name='resident')
    with op.batch_alter_table('resident') as batch:
        batch.drop_column('confirm_expires_at')
        batch.drop_column('confirm_hash')
        batch.drop_column('pending')
        batch.drop_column('email')
