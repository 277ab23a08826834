"""One person, one ballot and secrecy (issue 13, voter side): access codes claimed by a resident account,
and the round setting that publishes running counts during voting.

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


def _add_fk_column(table, name, target):
    """A nullable integer column referencing `target` (table.column), ON DELETE SET NULL (as in 0007)."""
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds such a column in place; batch mode would rebuild the table.
        ref_table, ref_col = target.split(".")
        op.execute(f"ALTER TABLE {table} ADD COLUMN {name} INTEGER REFERENCES {ref_table}({ref_col}) ON DELETE SET NULL")
    else:
        fk = sa.ForeignKey(target, ondelete="SET NULL", name=f"fk_{table}_{name}")
        op.add_column(table, sa.Column(name, sa.Integer(), fk, nullable=True))


def upgrade() -> None:
    # pb_engine.code_binding: the resident account that claimed an access code.
    _add_fk_column('accesscode', 'claimed_by', 'resident.id')
    op.create_index('ix_accesscode_claimed_by', 'accesscode', ['claimed_by'])
    # pb_engine.secrecy: running counts while voting is open are hidden unless the round allows them.
    op.add_column('pb_round', sa.Column('live_turnout', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('pb_round') as batch:
        batch.drop_column('live_turnout')
    with op.batch_alter_table('accesscode') as batch:
        batch.drop_index('ix_accesscode_claimed_by')
        batch.drop_column('claimed_by')
