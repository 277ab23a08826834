"""Slot for the schema of: job queue and rule-result cache (issue 12).

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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
