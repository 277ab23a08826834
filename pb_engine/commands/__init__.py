"""CLI commands, one module per area. Each module exposes `commands`: a list of click commands."""
