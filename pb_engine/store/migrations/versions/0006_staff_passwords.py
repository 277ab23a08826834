"""Staff console passwords: an argon2 hash per staff member, and a one-time set-password link.

Existing staff keep their bearer tokens and have no password until someone sends them a link.

Revision ID: 0006_staff_passwords
Revises: 0005_proposal_status_history
Create Date: 2026-12-02 15:50:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0006_staff_passwords'
down_revision = '0005_proposal_status_history'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staffuser') as batch:
        batch.add_column(sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('setup_token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('setup_expires_at', pb_engine.store.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staffuser') as batch:
        batch.drop_column('setup_expires_at')
        batch.drop_column('setup_token_hash')
        batch.drop_column('password_hash')
