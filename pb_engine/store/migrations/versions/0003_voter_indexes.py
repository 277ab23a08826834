"""Voter indexes: a voter's ballots across districts, and the access code behind a voter key.

Casting a ballot asks both on every cast (the one-district rule and marking
the code spent); without them each cast scans the round's ballots and codes.

Revision ID: 0003_voter_indexes
Revises: 0002_round_categories
Create Date: 2026-11-26 21:12:37
"""
from alembic import op


revision = '0003_voter_indexes'
down_revision = '0002_round_categories'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accesscode', schema=None) as batch_op:
        batch_op.create_index('ix_accesscode_round_voter', ['round_id', 'voter_key'], unique=False)
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_round_voter', ['round_id', 'voter_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index('ix_ballot_round_voter')
    with op.batch_alter_table('accesscode', schema=None) as batch_op:
        batch_op.drop_index('ix_accesscode_round_voter')
