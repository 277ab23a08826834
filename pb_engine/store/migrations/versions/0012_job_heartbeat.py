"""A job's heartbeat (issue 12): the process that holds a job (queued in its thread pool, or running it)
writes `heartbeat_at` every few seconds, so a job whose process or thread died is reported failed
instead of staying queued or running forever (pb_engine.jobs).

Revision ID: 0012_job_heartbeat
Revises: 0011_proposal_origin
Create Date: 2026-12-03 06:10:00
"""
import sqlalchemy as sa
from alembic import op

import pb_engine.store.types


revision = '0012_job_heartbeat'
down_revision = '0011_proposal_origin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job", sa.Column("heartbeat_at", pb_engine.store.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("job", "heartbeat_at")
