"""What the staff console works on: merged duplicates and their authors, hidden comments, revoked
access codes (and sealed clear codes for reprinting a batch), paper ballots waiting for their second entry, implementation progress reports.

Revision ID: 0007_console_work
Revises: 0006_staff_passwords
Create Date: 2026-12-02 17:05:00
"""
import sqlalchemy as sa
from alembic import op

import sqlmodel
import pb_engine.store.types


revision = '0007_console_work'
down_revision = '0006_staff_passwords'
branch_labels = None
depends_on = None

WHEN = pb_engine.store.types.UTCDateTime(timezone=True)
TEXT = sqlmodel.sql.sqltypes.AutoString()


def _add_fk_column(table, name, target):
    """A nullable integer column referencing `target` (table.column), ON DELETE SET NULL."""
    if op.get_bind().dialect.name == "sqlite":
        # Alembic refuses a constraint in SQLite's ALTER, and its batch mode would rebuild the
        # table (dropping the search triggers of 0004); SQLite itself adds such a column in place.
        ref_table, ref_col = target.split(".")
        op.execute(f"ALTER TABLE {table} ADD COLUMN {name} INTEGER REFERENCES {ref_table}({ref_col}) ON DELETE SET NULL")
    else:
        fk = sa.ForeignKey(target, ondelete="SET NULL", name=f"fk_{table}_{name}")
        op.add_column(table, sa.Column(name, sa.Integer(), fk, nullable=True))


def upgrade() -> None:
    _add_fk_column('proposal', 'merged_into_id', 'proposal.id')
    op.create_index('ix_proposal_merged_into_id', 'proposal', ['merged_into_id'])
    op.add_column('comment', sa.Column('hidden_at', WHEN, nullable=True))
    op.add_column('comment', sa.Column('hidden_reason', sa.Text(), nullable=False, server_default=''))
    _add_fk_column('comment', 'hidden_by', 'staffuser.id')
    op.create_index('ix_comment_hidden_by', 'comment', ['hidden_by'])
    op.add_column('accesscode', sa.Column('revoked_at', WHEN, nullable=True))
    op.add_column('accesscode', sa.Column('sealed', TEXT, nullable=True))
    _add_fk_column('accesscode', 'revoked_by', 'staffuser.id')
    op.create_index('ix_accesscode_revoked_by', 'accesscode', ['revoked_by'])

    op.create_table(
        'proposal_author',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('voter_key', TEXT, nullable=True),
        sa.Column('from_proposal_id', sa.Integer(), nullable=True),
        sa.Column('added_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['from_proposal_id'], ['proposal.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('proposal_id', 'resident_id'),
    )
    for col in ('proposal_id', 'resident_id', 'from_proposal_id'):
        op.create_index(f'ix_proposal_coauthor_{col}', 'proposal_author', [col])

    op.create_table(
        'paper_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.Column('voter_ref', sa.String(128), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('status', TEXT, nullable=False),
        sa.Column('entered_by', sa.Integer(), nullable=True),
        sa.Column('entered_at', WHEN, nullable=False),
        sa.Column('confirmed_by', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', WHEN, nullable=True),
        sa.Column('ballot_receipt', TEXT, nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['pb_round.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entered_by'], ['staffuser.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['confirmed_by'], ['staffuser.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    for col in ('round_id', 'district_id', 'voter_ref', 'entered_by', 'confirmed_by'):
        op.create_index(f'ix_paper_entry_{col}', 'paper_entry', [col])

    op.create_table(
        'implementation_update',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('status', TEXT, nullable=False),
        sa.Column('percent_done', sa.Integer(), nullable=False),
        sa.Column('spent', sa.BigInteger(), nullable=True),
        sa.Column('on_date', WHEN, nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('photo', sa.LargeBinary(), nullable=True),
        sa.Column('photo_type', TEXT, nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['staffuser.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    for col in ('proposal_id', 'created_by'):
        op.create_index(f'ix_implementation_update_{col}', 'implementation_update', [col])


def downgrade() -> None:
    op.drop_table('implementation_update')
    op.drop_table('paper_entry')
    op.drop_table('proposal_author')
    with op.batch_alter_table('accesscode') as batch:
        batch.drop_index('ix_accesscode_revoked_by')
        batch.drop_column('revoked_by')
        batch.drop_column('sealed')
        batch.drop_column('revoked_at')
    with op.batch_alter_table('comment') as batch:
        batch.drop_index('ix_comment_hidden_by')
        batch.drop_column('hidden_by')
        batch.drop_column('hidden_reason')
        batch.drop_column('hidden_at')
    with op.batch_alter_table('proposal') as batch:
        batch.drop_index('ix_proposal_merged_into_id')
        batch.drop_column('merged_into_id')
