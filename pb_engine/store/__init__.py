"""Storage: SQLModel tables, engine and sessions, migrations. Nothing above this layer writes SQL."""
