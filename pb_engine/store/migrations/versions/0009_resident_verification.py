"""Slot for the schema of: verified residents for endorsements (issue 13, registration).

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
    pass


def downgrade() -> None:
    pass
