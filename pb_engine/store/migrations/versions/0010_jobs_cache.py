"""Job queue state and the rule-result cache (issue 12): `job` (long work with progress, whichever
backend runs it) and `rule_result` (a rule's outcome keyed by a hash of its exact inputs).

Revision ID: 0010_jobs_cache
Revises: 0009_resident_verification
Create Date: 2026-12-02 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0010_jobs_cache'
down_revision = '0009_resident_verification'
branch_labels = None
depends_on = None

WHEN = pb_engine.store.types.UTCDateTime(timezone=True)
TEXT = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        'job',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', TEXT, nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('state', TEXT, nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('message', TEXT, nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('city_id', sa.Integer(), nullable=True),
        sa.Column('round_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('started_at', WHEN, nullable=True),
        sa.Column('finished_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['city_id'], ['city.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['pb_round.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['staffuser.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_job_city_id', 'job', ['city_id'])
    op.create_index('ix_job_round_id', 'job', ['round_id'])
    op.create_index('ix_job_created_by', 'job', ['created_by'])
    op.create_table(
        'rule_result',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('rule', TEXT, nullable=False),
        sa.Column('input_hash', TEXT, nullable=False),
        sa.Column('engine_version', TEXT, nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('rule_result')
    op.drop_index('ix_job_created_by', table_name='job')
    op.drop_index('ix_job_round_id', table_name='job')
    op.drop_index('ix_job_city_id', table_name='job')
    op.drop_table('job')
