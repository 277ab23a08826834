"""Marshmallow schemas: the API's shapes (table models stay in pb_engine.store.tables)."""
