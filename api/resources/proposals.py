"""Proposals of a round: list/search, submit, read, edit or review; endorse, comment, staff responses."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import REVIEW, access, participant, require_staff
from api.context import bearer_token, uow
from api.resources import _scope
from api.resources._links import PROPOSAL, SAME_ROUND, links, op
from api.schemas.proposals import (CommentInSchema, CommentSchema, EndorsementResultSchema, ProposalCreateSchema,
                                   ProposalPageSchema, ProposalPatchSchema, ProposalQuerySchema, ProposalSchema,
                                   ResponseOutSchema, StaffResponseInSchema)
from pb_engine import proposals as svc
from pb_engine.queries import proposals as queries
from pb_engine import staff as staff_mod

blp = Blueprint("proposals", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Proposals: submit, endorse, discuss, review")

MONEY_FIELDS = ("estimated_cost", "reviewed_cost")


def proposal_dict(city, it: queries.ProposalItem, *, responses=None) -> dict:
    """The JSON shape of a proposal, from its read model (money in major units)."""
    out = {
        "id": it.id, "round": it.round_slug, "district": it.district_slug, "title": it.title, "summary": it.summary,
        "description": it.description, "categories": list(it.categories),
        "estimated_cost": _scope.to_major(it.estimated_cost, city.currency),
        "reviewed_cost": _scope.to_major(it.reviewed_cost, city.currency),
        "feasible": it.feasible, "status": it.status, "endorsements": it.endorsements, "author": it.author,
        "entered_by_staff": it.entered_by_staff, "created_at": it.created_at, "updated_at": it.updated_at,
        "borrowed_from": it.origin,
    }
    if responses is not None:
        out["responses"] = responses
    return out


def _full(s, city, rnd, p) -> dict:
    return proposal_dict(city, queries.item(s, rnd, p), responses=svc.responses_of(s, p))


def _minor(data: dict, currency: str) -> dict:
    out = dict(data)
    for k in MONEY_FIELDS:
        if k in out:
            out[k] = _scope.to_minor(k, out[k], currency)
    return out


@blp.route("/proposals")
class Proposals(MethodView):
    @access(blp, "public")
    @blp.arguments(ProposalQuerySchema, location="query")
    @blp.response(200, ProposalPageSchema)
    @links(200, first_proposal=op("GET", PROPOSAL, proposal_id="$response.body#/proposals/0/id", **SAME_ROUND),
           its_comments=op("GET", PROPOSAL + "/comments", proposal_id="$response.body#/proposals/0/id", **SAME_ROUND),
           similar=op("GET", PROPOSAL + "/similar", proposal_id="$response.body#/proposals/0/id", **SAME_ROUND))
    def get(self, args, city, round):
        """Proposals of the round: filter by district, category, status; search with `q`; paginated."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        found = queries.proposal_list(s, rnd, district=args.get("district"), category=args.get("category"),
                                      status=args.get("status"), q=args.get("q"), page=args["page"],
                                      per_page=args["per_page"])
        return {"proposals": [proposal_dict(c, it) for it in found.items], "page": found.page,
                "per_page": found.per_page, "total": found.total, "pages": found.pages}

    @access(blp, "participant", REVIEW)
    @blp.arguments(ProposalCreateSchema)
    @blp.response(201, ProposalSchema)
    @links(201, proposal=op("GET", PROPOSAL, proposal_id="$response.body#/id", **SAME_ROUND),
           edit=op("PATCH", PROPOSAL, proposal_id="$response.body#/id", **SAME_ROUND),
           endorse=op("POST", PROPOSAL + "/endorsements", proposal_id="$response.body#/id", **SAME_ROUND),
           comments=op("GET", PROPOSAL + "/comments", proposal_id="$response.body#/id", **SAME_ROUND),
           comment=op("POST", PROPOSAL + "/comments", proposal_id="$response.body#/id", **SAME_ROUND),
           respond=op("POST", PROPOSAL + "/responses", proposal_id="$response.body#/id", **SAME_ROUND))
    def post(self, data, city, round):
        """Submit a proposal (resident or voter session, while submission is open), or enter one on behalf of residents (staff)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        data = _minor(data, c.currency)
        token = bearer_token()
        if token and token.startswith(staff_mod.PREFIX):
            st = require_staff(s, c, REVIEW)
            p = svc.submit(s, rnd, data, now=_scope.now(), staff=st)
        else:
            who = participant(s, c, rnd)
            p = svc.submit(s, rnd, data, now=_scope.now(), resident_id=who.resident.id if who.resident else None,
                           voter_key=who.voter_key)
        return proposal_dict(c, queries.item(s, rnd, p))


@blp.route("/proposals/<int:proposal_id>")
class ProposalView(MethodView):
    @access(blp, "public")
    @blp.response(200, ProposalSchema)
    def get(self, city, round, proposal_id):
        """One proposal with the staff's public responses."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        return _full(s, c, rnd, _scope.proposal(s, rnd, proposal_id))

    @access(blp, "participant", REVIEW)
    @blp.arguments(ProposalPatchSchema)
    @blp.response(200, ProposalSchema)
    def patch(self, data, city, round, proposal_id):
        """Authors edit their own while submission is open; staff correct and review (reviewed_cost, feasible, status)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        data = _minor(data, c.currency)
        token = bearer_token()
        if token and token.startswith(staff_mod.PREFIX):
            st = require_staff(s, c, REVIEW)
            svc.review(s, rnd, p, data, staff=st, now=_scope.now())
        else:
            who = participant(s, c, rnd)
            svc.edit_by_author(s, rnd, p, data, participant_key=who.key, now=_scope.now())
        return _full(s, c, rnd, p)


@blp.route("/proposals/<int:proposal_id>/endorsements")
class Endorsements(MethodView):
    @access(blp, "participant")
    @blp.response(201, EndorsementResultSchema)
    def post(self, city, round, proposal_id):
        """Endorse a proposal (once per person) during submission or endorsement."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        who = participant(s, c, rnd)
        svc.endorse(s, rnd, p, participant_key=who.key, now=_scope.now())
        return {"proposal": p.id, "endorsements": p.endorsement_count, "status": p.status}


@blp.route("/proposals/<int:proposal_id>/comments")
class Comments(MethodView):
    @access(blp, "public")
    @blp.response(200, CommentSchema(many=True))
    @links(200, hide_first=op("POST", PROPOSAL + "/comments/{comment_id}/hide", comment_id="$response.body#/0/id",
                              proposal_id="$request.path.proposal_id", **SAME_ROUND))
    def get(self, city, round, proposal_id):
        """Comments on a proposal, oldest first."""
        s = uow()
        _c, rnd = _scope.round_(s, city, round)
        return svc.comments_of(s, _scope.proposal(s, rnd, proposal_id))

    @access(blp, "participant")
    @blp.arguments(CommentInSchema)
    @blp.response(201, CommentSchema)
    @links(201, hide=op("POST", PROPOSAL + "/comments/{comment_id}/hide", comment_id="$response.body#/id",
                        proposal_id="$request.path.proposal_id", **SAME_ROUND),
           unhide=op("POST", PROPOSAL + "/comments/{comment_id}/unhide", comment_id="$response.body#/id",
                     proposal_id="$request.path.proposal_id", **SAME_ROUND))
    def post(self, data, city, round, proposal_id):
        """Comment on a proposal (resident or voter session)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        who = participant(s, c, rnd)
        return svc.comment(s, rnd, p, body=data["body"], resident_id=who.resident.id if who.resident else None,
                           author_name=who.display_name, now=_scope.now())


@blp.route("/proposals/<int:proposal_id>/responses")
class Responses(MethodView):
    @access(blp, "staff", REVIEW)
    @blp.arguments(StaffResponseInSchema)
    @blp.response(201, ResponseOutSchema)
    def post(self, data, city, round, proposal_id):
        """A public, structured answer by city staff (answer, review note, implementation progress)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        st = require_staff(s, c, REVIEW)
        return svc.respond(s, rnd, p, staff=st, kind=data["kind"], body=data["body"], now=_scope.now())
