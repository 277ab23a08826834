"""Analysts' page of proposals across cities (/proposals, its chart), and borrowing an idea into one's own city.

Same filters and read model as GET /api/v1/proposals. A bad filter value in the address is not an
error page: the form shows the message beside the field and the list without that filter.
"""

from __future__ import annotations

from flask import Response, redirect, request, url_for

from api.context import uow
from api.long_work import background
from api.i18n import _
from api.messages import term_name
from api.pages import bp
from api.pages.helpers import now, render, signed_in_resident
from api.resources import _scope
from api.resources.proposals_across import filters_from, rates
from pb_engine import borrowing
from pb_engine.errors import PBError, ValidationFailed
from pb_engine.queries import proposals_across as across
from pb_engine.queries import rounds as round_queries
from pb_engine.taxonomy import TERMS

PER_PAGE = 20
ARGS = ("category", "city", "year", "status", "cost_band", "q", "sort", "currency")


def stage_name(stage: str) -> str:
    return {"submitted": _("submitted (every idea)"), "on_ballot": _("reached the ballot"), "funded": _("funded"),
            "built": _("built")}.get(stage, stage)


def band_name(slug: str, base: str) -> str:
    from api.i18n import money

    for s, lo, hi in across.BANDS:
        if s == slug:
            if lo == 0:
                return _("under %(amount)s", amount=money(hi * 100, base))
            if hi is None:
                return _("%(amount)s or more", amount=money(lo * 100, base))
            return _("%(low)s to %(high)s", low=money(lo * 100, base), high=money(hi * 100, base))
    return slug


def sort_name(sort: str) -> str:
    names = {"relevance": _("best match"), "year": _("oldest first"), "-year": _("newest first"),
             "city": _("city A-Z"), "-city": _("city Z-A"), "title": _("title A-Z"),
             "cost": _("cheapest first"), "-cost": _("most expensive first"), "votes": _("fewest votes first"),
             "-votes": _("most votes first"), "voter_share": _("smallest share of voters first"),
             "-voter_share": _("largest share of voters first"), "share_of_budget": _("smallest share of budget first"),
             "-share_of_budget": _("largest share of budget first")}
    return names.get(sort, sort)


def _args() -> dict:
    out = {k: (request.args.get(k) or "").strip()[:200] for k in ARGS}
    year = out.pop("year")
    out["year"] = int(year) if year.isdigit() and len(year) == 4 else None
    return out


def _filters(args: dict, page: int, per_page: int = PER_PAGE):
    """(checked Filters, {field: messages}) with each bad field dropped and its message kept for the form."""
    r = rates()
    base = {**{k: v or None for k, v in args.items()}, "page": page, "per_page": per_page}
    try:
        return filters_from(base).checked(r), {}, r
    except ValidationFailed as err:
        errors = err.errors or {}
        cleaned = {k: (None if k in errors else v) for k, v in base.items()}
        return filters_from(cleaned).checked(r), errors, r


def _page_arg() -> int:
    try:
        return min(100_000, max(1, int(request.args.get("page", 1))))
    except ValueError:
        return 1


@bp.route("/proposals")
def proposals_across():
    args = _args()
    f, errors, r = _filters(args, _page_arg())
    s = uow()
    pg = across.page(s, f, r, now=now(), background=background())
    figures = across.by_city(across.rows(s, across.Filters(**{**f.__dict__, "page": 1}), r, now=now())) \
        if f.category else []
    link_args = {k: v for k, v in args.items() if v not in (None, "") and k not in errors}
    # The domain's messages are English; the form says the same in the visitor's language.
    errors = {k: [_("This value is not one of those offered; it was left out.")] for k in errors}
    return render("proposals_across.html", pg=pg, args=args, errors=errors, figures=figures, rates=r,
                  link_args=link_args, facets=across.facets(s, now()), terms=TERMS, stages=across.STAGES,
                  bands=across.BAND_SLUGS, sorts=across.SORTS, term_name=term_name, stage_name=stage_name,
                  band_name=band_name, sort_name=sort_name)


@bp.route("/proposals/chart.svg")
def proposals_across_chart():
    """The per-city chart of the chosen category (the page's table holds the same numbers)."""
    from api import charts

    f, _errors, r = _filters(_args(), 1)
    figures = across.by_city(across.rows(uow(), f, r, now=now())) if f.category else []
    svg = charts.city_category_bars(
        [c.city_name for c in figures],
        [None if c.median_cost is None else float(c.median_cost) for c in figures],
        [None if c.share_funded is None else float(c.share_funded) for c in figures],
        cost_label=_("Median cost (%(currency)s)", currency=f.currency), share_label=_("Share funded, in percent"),
        title=term_name(f.category) if f.category else _("Choose a category"))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=60"})


@bp.route("/proposals/<int:proposal_id>/borrow")
def proposal_borrow(proposal_id: int):
    """Where to start an idea from this proposal: the rounds taking proposals now, the visitor's own cities
    first; one round of the visitor's own city goes straight to its form."""
    s = uow()
    try:
        p, rnd, city = borrowing.source(s, proposal_id if 0 < proposal_id <= _scope.MAX_ID else None)
    except PBError:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    open_rounds = []
    for entry in round_queries.directory(s, now()):
        for rs in entry.rounds:
            if rs.current_phase == "submission" and not (entry.city.slug == city.slug and rs.slug == rnd.slug):
                open_rounds.append((entry.city, rs))
    mine = [(c, rs) for c, rs in open_rounds if signed_in_resident(c) is not None]  # CityInfo carries the id
    if len(mine) == 1:
        c, rs = mine[0]
        return redirect(url_for("pages.proposal_new", city=c.slug, round=rs.slug, **{"from": p.id}), 303)
    mine_slugs = {c.slug for c, _rs in mine}
    open_rounds.sort(key=lambda x: (x[0].slug not in mine_slugs, x[0].name.casefold(), x[1].slug))
    return render("proposal_borrow.html", p=p, rnd=rnd, city=city, open_rounds=open_rounds, mine=mine_slugs)


@bp.app_template_global("borrowed_origin")
def borrowed_origin(source_id) -> dict | None:
    """For the new-idea form: what the idea is started from ({title, round_title, city_name, ...}), or None."""
    if not source_id or not str(source_id).isdigit() or len(str(source_id)) > 10:
        return None
    try:
        p, rnd, city = borrowing.source(uow(), int(source_id))
    except PBError:
        return None
    return {"proposal_id": p.id, "title": p.title, "city": city.slug, "city_name": city.name, "round": rnd.slug,
            "round_title": rnd.title, "cost": p.reviewed_cost if p.reviewed_cost is not None else p.estimated_cost,
            "currency": city.currency}
