"""Alembic environment: the target is SQLModel's metadata of pb_engine.store.tables."""

from alembic import context
from sqlmodel import SQLModel

import pb_engine.store.tables  # noqa: F401  (registers the tables)
from pb_engine.store.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names) -> bool:
    # The search indexes of 0004_proposal_search (SQLite FTS5 tables with their shadow tables, PostgreSQL's
    # generated tsvector column and its indexes) are not in the models: autogenerate must not offer to drop them.
    if type_ == "table":
        return not name.startswith("proposal_fts")
    if type_ == "column":
        return not (name == "search_vector" and parent_names.get("table_name") == "proposal")
    return not (type_ == "index" and name.startswith("ix_proposal_search"))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables there.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
