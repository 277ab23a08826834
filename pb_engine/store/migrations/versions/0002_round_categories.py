"""Round categories: the city category slugs a round's proposals may use (empty: all).

Revision ID: 0002_round_categories
Revises: 0001
Create Date: 2026-11-26 21:05:21
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_round_categories'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # server_default fills rows that exist already; new rows get [] from the model.
    with op.batch_alter_table('pb_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('categories', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('pb_round', schema=None) as batch_op:
        batch_op.drop_column('categories')
