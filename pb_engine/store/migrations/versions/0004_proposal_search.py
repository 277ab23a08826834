"""Proposal search: full-text indexes over a proposal's title, summary and description.

SQLite (FTS5, external content: the text stays in `proposal`, the indexes hold only tokens):
- `proposal_fts`, tokenizer unicode61: words of space-separated scripts, queried by word prefix;
- `proposal_fts_trigram`, tokenizer trigram: substrings of 3+ characters, for Chinese, Japanese and
  Korean, which unicode61 keeps as one token per run of characters ("公園綠地" would be one word);
- triggers keep both in step with every insert, delete and update of the three columns, and the
  migration fills them for existing proposals ('rebuild').
  A later migration that rebuilds `proposal` (Alembic batch mode on SQLite copies it to a new table
  and drops the old one) drops these triggers with it and must create them again:
  tests/store/test_search.py edits and deletes proposals on the migrated head schema, so it fails then.

PostgreSQL:
- `proposal.search_vector`, a stored generated column: the weighted 'simple' tsvector of the three
  columns, with a GIN index. Stored rather than an expression index because ranking reads the tsvector
  of every match: recomputed from the text it took 1 s for 8 000 matches (benchmarks/bench_search.py).
  The models do not declare it (SQLite has no such column); env.py keeps autogenerate from dropping it;
- pg_trgm, when the server offers it and we may create it, with a GIN trigram index over the three
  columns joined by spaces, which serves the ILIKE used for CJK terms; without it the same ILIKE scans.

Revision ID: 0004_proposal_search
Revises: 0003_voter_indexes
Create Date: 2026-12-02 14:30:00
"""
from alembic import op


revision = '0004_proposal_search'
down_revision = '0003_voter_indexes'
branch_labels = None
depends_on = None

_COLUMNS = "title, summary, description"


def _sqlite_triggers() -> list[str]:
    def put(table: str) -> str:
        return f"INSERT INTO {table}(rowid, {_COLUMNS}) VALUES (new.id, new.title, new.summary, new.description);"

    def drop(table: str) -> str:
        return (f"INSERT INTO {table}({table}, rowid, {_COLUMNS}) "
                f"VALUES ('delete', old.id, old.title, old.summary, old.description);")

    both = ("proposal_fts", "proposal_fts_trigram")
    return [
        "CREATE TRIGGER proposal_fts_ai AFTER INSERT ON proposal BEGIN "
        + " ".join(put(t) for t in both) + " END",
        "CREATE TRIGGER proposal_fts_ad AFTER DELETE ON proposal BEGIN "
        + " ".join(drop(t) for t in both) + " END",
        # Only the indexed columns: counting an endorsement must not rewrite the index.
        "CREATE TRIGGER proposal_fts_au AFTER UPDATE OF title, summary, description ON proposal BEGIN "
        + " ".join(drop(t) + " " + put(t) for t in both) + " END",
    ]


_PG_TRGM = """
DO $$
DECLARE
    trgm_schema text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege OR feature_not_supported THEN
            RAISE NOTICE 'pg_trgm not created (%): CJK proposal search will scan with ILIKE', SQLERRM;
        END;
    END IF;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS ix_proposal_search_trgm ON proposal USING gin '
                       '(((title || '' '' || summary || '' '' || description)) %I.gin_trgm_ops)', trgm_schema);
    END IF;
END
$$;
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE proposal_fts USING fts5({_COLUMNS}, content='proposal', "
                   "content_rowid='id', tokenize='unicode61')")
        op.execute(f"CREATE VIRTUAL TABLE proposal_fts_trigram USING fts5({_COLUMNS}, content='proposal', "
                   "content_rowid='id', tokenize='trigram')")
        for ddl in _sqlite_triggers():
            op.execute(ddl)
        op.execute("INSERT INTO proposal_fts(proposal_fts) VALUES ('rebuild')")
        op.execute("INSERT INTO proposal_fts_trigram(proposal_fts_trigram) VALUES ('rebuild')")
    elif dialect == "postgresql":
        # '<' and '>' become spaces first: PostgreSQL's parser reads "<b> … </b>" and "x<y … y>z" as
        # markup and drops the words inside, so a title like "<script>alert(1)</script>" or
        # "age<12 and >65" would not be found by its words.
        op.execute("ALTER TABLE proposal ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
                   "setweight(to_tsvector('simple'::regconfig, translate(title, '<>', '  ')), 'A') || "
                   "setweight(to_tsvector('simple'::regconfig, translate(summary, '<>', '  ')), 'B') || "
                   "setweight(to_tsvector('simple'::regconfig, translate(description, '<>', '  ')), 'C')) STORED")
        op.execute("CREATE INDEX ix_proposal_search ON proposal USING gin (search_vector)")
        op.execute(_PG_TRGM)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("proposal_fts_au", "proposal_fts_ad", "proposal_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS proposal_fts_trigram")
        op.execute("DROP TABLE IF EXISTS proposal_fts")
    elif dialect == "postgresql":
        # pg_trgm stays: other objects may use it, and dropping an extension needs its owner.
        op.execute("DROP INDEX IF EXISTS ix_proposal_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_proposal_search")
        op.execute("ALTER TABLE proposal DROP COLUMN IF EXISTS search_vector")
