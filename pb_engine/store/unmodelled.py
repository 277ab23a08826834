"""Schema objects the migrations make that the models do not describe, for Alembic's comparisons."""


def include_name(name, type_, parent_names) -> bool:
    # The search indexes of 0004_proposal_search (SQLite FTS5 tables with their shadow tables, PostgreSQL's
    # generated tsvector column and its indexes) are not in the models: autogenerate must not offer to drop them.
    if type_ == "table":
        return not name.startswith("proposal_fts")
    if type_ == "column":
        return not (name == "search_vector" and parent_names.get("table_name") == "proposal")
    return not (type_ == "index" and name.startswith("ix_proposal_search"))
