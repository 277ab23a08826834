"""Slot for the schema of: one person one ballot and secrecy (issue 13, voter side).

Revision ID: 0008_voter_binding
Revises: 0007_console_work
Create Date: 2026-12-02 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0008_voter_binding'
down_revision = '0007_console_work'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
