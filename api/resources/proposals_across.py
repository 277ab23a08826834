"""Proposals across cities: GET /api/v1/proposals (JSON or CSV), /proposals/by-city, and a proposal's
similar ones from other rounds (pb_engine.queries.proposals_across, similar_proposals)."""

from __future__ import annotations

import io
import os
from fractions import Fraction

from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import access
from api.context import uow
from api.long_work import background
from api.resources import _scope
from api.schemas.common import NoNul
from pb_engine import csv_cells
from pb_engine.analysis.currency import Rates, RatesFileError, load_rates
from pb_engine.errors import PBError
from pb_engine.money import major_json
from pb_engine.queries import proposals_across as across
from pb_engine.queries import similar_proposals

blp = Blueprint("proposals_across", __name__, url_prefix="/api/v1",
                description="Proposals of every city and year side by side; similar ideas from other rounds")


class RatesUnavailable(PBError):
    status = 503
    code = "rates_unavailable"


def rates() -> Rates:
    """The dated rates file: app config or environment PB_CURRENCY_RATES, else data/currency_rates.toml.

    A broken file is the operator's to fix, not the asker's: 503 naming the file and the key."""
    try:
        return load_rates(current_app.config.get("PB_CURRENCY_RATES") or os.environ.get("PB_CURRENCY_RATES") or None)
    except RatesFileError as exc:
        raise RatesUnavailable(str(exc), {"currency_rates": [str(exc)]}) from None


def _s(**kw):
    return fields.String(validate=[NoNul(), validate.Length(max=200)], load_default=None, **kw)


class AcrossArgs(Schema):
    # Values are checked by Filters.checked, which names the field and lists what is allowed.
    category = _s(metadata={"description": "a shared category (pb_engine/taxonomy.py), e.g. sport"})
    city = _s(metadata={"description": "a city slug"})
    year = fields.Integer(load_default=None, validate=validate.Range(min=1900, max=2200))
    status = _s(metadata={"description": "how far it got: " + ", ".join(across.STAGES)})
    cost_band = _s(metadata={"description": "in the rates file's base currency: " + ", ".join(across.BAND_SLUGS)})
    q = _s(metadata={"description": "full-text query"})
    sort = _s(metadata={"description": "one of " + ", ".join(across.SORTS) + " (default: relevance with q, else -year)"})
    currency = _s(metadata={"description": "the chosen currency for converted costs (default: the rates' base)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=across.MAX_PER_PAGE))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class ByCityArgs(AcrossArgs):
    category = fields.String(required=True, validate=[NoNul(), validate.Length(max=200)],
                             metadata={"description": "a shared category (pb_engine/taxonomy.py)"})


class SimilarArgs(Schema):
    currency = _s()


def filters_from(args: dict) -> across.Filters:
    keys = ("category", "city", "year", "status", "cost_band", "q", "sort", "currency", "page", "per_page")
    return across.Filters(**{k: (args.get(k) if args.get(k) != "" else None) for k in keys if k in args})


def _num(x: Fraction | None, places: int):
    return None if x is None else round(float(x), places)


def row_dict(r: across.Row, currency: str) -> dict:
    return {
        "id": r.proposal_id, "city": r.city_slug, "city_name": r.city_name, "country": r.country,
        "round": r.round_slug, "round_title": r.round_title, "year": r.year, "district": r.district_slug,
        "district_name": r.district_name, "title": r.title, "categories": list(r.terms), "status": r.status,
        "stage": r.stage, "currency": r.currency,
        "cost": None if r.cost is None else major_json(r.cost, r.currency),
        "cost_converted": {"currency": currency, "amount": _num(r.cost_converted, 2)},
        "cost_band": r.cost_band,
        "district_budget": major_json(r.district_budget, r.currency),
        "share_of_budget": _num(r.share_of_budget, 6),
        "population": r.population, "cost_per_resident": _num(r.cost_per_resident, 4),
        "votes": r.votes, "voters": r.voters, "voter_share": _num(r.voter_share, 6),
        "funded_official": r.funded_official, "funded_by_rule": dict(r.funded_by_rule),
        "rules_pending": list(r.rules_pending),
        "implementation": None if r.implementation is None else {"status": r.implementation,
                                                                 "percent_done": r.percent_done},
        "imported": r.imported,
        "url": url_for("pages.proposal_page", city=r.city_slug, round=r.round_slug, proposal_id=r.proposal_id),
    }


def _flag(v):
    return "" if v is None else ("yes" if v else "no")


def to_csv(rows: list[across.Row], currency: str) -> str:
    rules = sorted({k for r in rows for k in r.funded_by_rule})
    out = io.StringIO()
    w = csv_cells.writer(out, lineterminator="\n")  # titles are residents' words: formulas neutralised
    w.writerow(["city", "round", "year", "district", "id", "title", "categories", "stage", "status", "currency", "cost",
                f"cost_{currency}", "cost_band", "share_of_district_budget", "cost_per_resident", "votes", "voters",
                "voter_share", "funded_official", *[f"funded_{r}" for r in rules], "implementation", "percent_done"])
    for r in rows:
        d = row_dict(r, currency)
        w.writerow([r.city_slug, r.round_slug, r.year or "", r.district_slug, r.proposal_id, r.title, ";".join(r.terms),
                    r.stage, r.status, r.currency, "" if d["cost"] is None else str(d["cost"]),
                    "" if r.cost_converted is None else f"{float(r.cost_converted):.2f}", r.cost_band or "",
                    "" if d["share_of_budget"] is None else d["share_of_budget"],
                    "" if d["cost_per_resident"] is None else d["cost_per_resident"],
                    "" if r.votes is None else r.votes, "" if r.voters is None else r.voters,
                    "" if d["voter_share"] is None else d["voter_share"], _flag(r.funded_official),
                    *["pending" if k in r.rules_pending else _flag(r.funded_by_rule.get(k)) for k in rules],
                    r.implementation or "",
                    "" if r.percent_done is None else r.percent_done])
    return out.getvalue()


def city_dict(c: across.CityFigures) -> dict:
    return {"city": c.city_slug, "city_name": c.city_name, "count": c.count, "median_cost": _num(c.median_cost, 2),
            "decided": c.decided, "funded": c.funded, "share_funded": _num(c.share_funded, 6),
            "votes_per_project": _num(c.votes_per_project, 2)}


class RowSchema(Schema):
    class Meta:
        unknown = "include"

    id = fields.Integer()
    city = fields.String()
    round = fields.String()
    title = fields.String()
    categories = fields.List(fields.String())
    stage = fields.String()
    cost = fields.Raw(allow_none=True, metadata={"type": "number"})
    cost_converted = fields.Dict()
    share_of_budget = fields.Float(allow_none=True)
    cost_per_resident = fields.Float(allow_none=True)
    votes = fields.Integer(allow_none=True)
    voter_share = fields.Float(allow_none=True)
    funded_official = fields.Boolean(allow_none=True)
    funded_by_rule = fields.Dict()
    rules_pending = fields.List(fields.String(), metadata={"description": "rules a background job is still counting "
                                                                          "on this round (funded_by_rule null meanwhile)"})
    implementation = fields.Dict(allow_none=True)


@blp.route("/proposals")
class ProposalsAcross(MethodView):
    @access(blp, "public")
    @blp.arguments(AcrossArgs, location="query")
    # response above alt_response (decorators apply from the bottom: the alternative 200 must come first, as
    # in api/resources/compare.py) and the JSON body named in the document, so that the one 200 keeps both
    # media types; without them the document said text/csv only and every JSON answer broke it.
    @blp.response(200, content_type="application/json")
    @blp.doc(responses={"200": {"description": "JSON rows, or with format=csv every matching row as CSV",
                                "content": {"application/json": {"schema": {"type": "object"}},
                                            "text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(200, success=True, content_type="text/csv", description="format=csv: every matching row",
                      schema={"type": "string"})
    def get(self, args):
        """Public proposals of every city and year (live and imported): filter, sort, page; JSON or CSV.

        Rows: {proposals, page, per_page, total, pages, currency, rates_date}. CSV holds every
        matching row (no pages)."""
        s = uow()
        r = rates()
        f = filters_from(args).checked(r)
        if args["format"] == "csv":
            rows = across.rows(s, f, r, now=_scope.now(), with_rules=True, background=background())
            return Response(to_csv(rows, f.currency), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="proposals.csv"'})
        pg = across.page(s, f, r, now=_scope.now(), background=background())
        return {"proposals": [row_dict(x, pg.currency) for x in pg.rows], "page": pg.page, "per_page": pg.per_page,
                "total": pg.total, "pages": pg.pages, "currency": pg.currency, "rates_date": pg.rates_date}


@blp.route("/proposals/by-city")
class ProposalsByCity(MethodView):
    @access(blp, "public")
    @blp.arguments(ByCityArgs, location="query")
    @blp.response(200, content_type="application/json")
    def get(self, args):
        """For one shared category (and the other filters): per city, count, median cost in the chosen
        currency, funded among those decided, votes per project."""
        s = uow()
        r = rates()
        f = filters_from(args).checked(r)
        figures = across.by_city(across.rows(s, f, r, now=_scope.now()))
        return {"category": f.category, "currency": f.currency, "rates_date": r.date.isoformat(),
                "cities": [city_dict(c) for c in figures]}


@blp.route("/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/similar")
class SimilarProposals(MethodView):
    @access(blp, "public")
    @blp.arguments(SimilarArgs, location="query")
    @blp.response(200, content_type="application/json")
    def get(self, args, city, round, proposal_id):
        """Similar proposals of other rounds (same shared category, near cost band, text similarity) with their fate."""
        s = uow()
        _c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        r = rates()
        currency = across.Filters(currency=args.get("currency")).checked(r).currency
        found = similar_proposals.similar(s, p.id, r, now=_scope.now(), currency=currency)
        return {"proposal": p.id, "currency": currency,
                "similar": [{**row_dict(x.row, currency), "score": x.score, "fate": x.fate} for x in found]}
