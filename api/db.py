"""Access to the app's Database from a request."""

from flask import current_app

from pb_engine.store.db import Database


def get_db() -> Database:
    return current_app.extensions["pb_db"]
