"""Outcomes of a round side by side (staff of the city): what each funds, spend, changes, fairness figures."""

from __future__ import annotations

from dataclasses import asdict

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import READ, access, require_staff
from api.context import uow
from api.resources import _scope
from api.resources.outcomes import outcome_json
from api.schemas.implementation import CompareArgs, ComparisonSchema
from pb_engine.queries.outcome_comparison import compare_outcomes, parse_ids

blp = Blueprint("outcome_comparison", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Outcomes compared: the same ballots under several rules")


@blp.route("/outcomes/compare")
class Compare(MethodView):
    @access(blp, "staff-private", READ)
    @blp.arguments(CompareArgs, location="query")
    @blp.response(200, ComparisonSchema)
    def get(self, args, city, round):
        """Outcomes `ids` (drafts included) side by side: per district each project funded or not per outcome,
        `changes` when they differ, spend and share of the budget, and fairness figures (share of voters with
        at least one supported project funded, average share of a voter's supported projects funded)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        require_staff(s, c, READ, private=True)
        cmp = compare_outcomes(s, rnd, parse_ids(args["ids"]))
        return {
            "outcomes": [{k: v for k, v in outcome_json(o).items() if k != "districts"} for o in cmp.outcomes],
            "same_ballots": cmp.same_ballots,
            "totals": [{"outcome": o.id, "funded": cmp.funded_count[i], "spend": cmp.spend[i],
                        "spend_share": cmp.spend_share[i], "fairness": asdict(cmp.fairness[i])}
                       for i, o in enumerate(cmp.outcomes)],
            "districts": [{
                "district": d.slug, "name": d.name, "budget": d.budget, "ballots": d.ballots,
                "per_outcome": [{"outcome": o.id, "funded": d.funded_count[i], "spend": d.spend[i],
                                 "spend_share": d.spend_share[i], "fairness": asdict(d.fairness[i])}
                                for i, o in enumerate(cmp.outcomes)],
                "projects": [{"id": p.id, "title": p.title, "cost": p.cost, "supporters": p.supporters,
                              "funded": list(p.funded), "changes": p.changes} for p in d.projects],
            } for d in cmp.districts],
        }
