"""Resident pages: home and search, a round, proposals, accounts, the voting booth, receipts, results.

Each module holds the views of one area and registers them on the one `pages` blueprint. Views
are thin: they read through pb_engine.queries, act through the pb_engine services, and render.
Forms post back to themselves: a refusal re-renders the form with the message beside the field
and what was typed kept (forms.py); success redirects (post/redirect/get) so a reload never
sends a form twice.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request

bp = Blueprint("pages", __name__)


def needs(who: str):
    """Mark a page form with who may post it, checked by `_who_asks` before anything reads its body:
    "voter" (a voter session of the URL's round in this browser), "participant" (a resident of the
    city signed in, or a voter of the round) or "author" (the participant who wrote the URL's
    proposal). The view asks again, in its own unit of work: this is the gate, not the only check."""
    if who not in ("voter", "participant", "author"):
        raise ValueError(f"needs({who!r}): one of voter, participant, author")

    def mark(view):
        view.page_needs = who
        return view
    return mark


def _who_asks():
    """A page form is posted: who asks is checked before its body is read, the CSRF check included
    (console's `_who_asks` does the same for staff). No voter session for the booth: the sign-in
    page (303), as its GET; no participant for a proposal form: 401; not the proposal's author: 403 (as the
    edit page's GET)."""
    from api.security import UNSAFE

    if request.method not in UNSAFE or request.blueprint != bp.name:
        return None
    who = getattr(current_app.view_functions.get(request.endpoint), "page_needs", None)
    args = request.view_args or {}
    if who is None or "city" not in args or "round" not in args:
        return None
    refusal = _refusal(who, args)
    if refusal is not None:
        raise refusal
    return None


def _refusal(who: str, args: dict):
    """What `_who_asks` answers a caller that `who` does not admit (an exception to raise), or None.

    Its rows come from a short session of its own, through store.lookup rather than the views' _scope
    (which keeps the city and round for the request's error pages: these rows die with this session);
    the view finds its own in the request's unit of work."""
    from api.context import cookie_voter_token, database
    from api.resources import _scope
    from pb_engine.store import lookup

    db = database()
    city_slug, round_slug = args["city"], args["round"]
    _scope.check_slugs(city_slug, round_slug)
    if who == "voter":
        # The cookie is signed: a voter token in it was issued to this browser by this site. No read
        # session before the cast (booth._cast_from_form) when the round's id is known in this process.
        round_id = lookup.round_id_hint(db.engine.url, city_slug, round_slug)
        if round_id is None:
            with db.session() as s:
                round_id = lookup.round_by_slug(s, lookup.city_by_slug(s, city_slug), round_slug).id
        if cookie_voter_token(round_id) is not None:
            return None
        from api.pages.booth import _SignInFirst

        return _SignInFirst()
    from api.pages.helpers import asker_in

    with db.session() as s:
        c = lookup.city_by_slug(s, city_slug)
        rnd = lookup.round_by_slug(s, c, round_slug)
        participant = asker_in(s, c, rnd)
        if who == "author":   # as the edit page's GET: 403 to all but the author, signed in or not
            from pb_engine import proposals as svc

            p = _scope.proposal(s, rnd, args.get("proposal_id"))
            if participant is None or not svc.is_author(p, participant.key):
                from werkzeug.exceptions import Forbidden

                return Forbidden()
        elif participant is None:
            from api.pages.proposals import sign_in_first

            return sign_in_first()
    return None


def init_app(app: Flask) -> None:
    from api.security import check_csrf

    from api.pages import account, booth, home, proposals, rounds  # noqa: F401  (they add views to bp)
    from api.pages import compare  # noqa: F401  (analysts' comparison of rounds, its charts)
    from api.pages import proposals_across  # noqa: F401  (analysts' proposals across cities; borrowing)
    from api.pages.helpers import template_globals

    app.jinja_env.globals.update(template_globals())
    app.jinja_env.filters["ucfirst"] = lambda text: text[:1].upper() + text[1:] if text else text
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(hooks.index(check_csrf), _who_asks)  # who asks, then the CSRF check that reads the form
    app.register_blueprint(bp)
