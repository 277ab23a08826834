"""Slot for the schema of: proposals borrowed from another city (issue 12).

Revision ID: 0011_proposal_origin
Revises: 0010_jobs_cache
Create Date: 2026-12-02 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0011_proposal_origin'
down_revision = '0010_jobs_cache'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no batch mode on SQLite, which would drop the search triggers.
    op.add_column("proposal", sa.Column("origin", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place (no table rebuild, the triggers stay).
    op.drop_column("proposal", "origin")
