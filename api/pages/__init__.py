"""Resident pages: home and search, a round, proposals, accounts, the voting booth, receipts, results.

Each module holds the views of one area and registers them on the one `pages` blueprint. Views
are thin: they read through pb_engine.queries, act through the pb_engine services, and render.
Forms post back to themselves: a refusal re-renders the form with the message beside the field
and what was typed kept (forms.py); success redirects (post/redirect/get) so a reload never
sends a form twice.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("pages", __name__)


def init_app(app: Flask) -> None:
    from api.pages import account, booth, home, proposals, rounds  # noqa: F401  (they add views to bp)
    from api.pages import compare  # noqa: F401  (analysts' comparison of rounds, its charts)
    from api.pages import proposals_across  # noqa: F401  (analysts' proposals across cities; borrowing)
    from api.pages.helpers import template_globals

    app.jinja_env.globals.update(template_globals())
    app.jinja_env.filters["ucfirst"] = lambda text: text[:1].upper() + text[1:] if text else text
    app.register_blueprint(bp)
