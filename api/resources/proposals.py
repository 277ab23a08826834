"""Proposals of a round: list/search, submit, read, edit or review; endorse, comment, staff responses."""

from math import ceil

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlmodel import select

from api.auth import ANY_STAFF, access, bearer_token, participant, require_staff
from api.db import get_db
from api.resources import _scope
from api.schemas.proposals import (CommentInSchema, CommentSchema, EndorsementResultSchema, ProposalCreateSchema,
                                   ProposalPageSchema, ProposalPatchSchema, ProposalQuerySchema, ProposalSchema,
                                   ResponseOutSchema, StaffResponseInSchema)
from pb_engine import proposals as svc
from pb_engine import staff as staff_mod
from pb_engine.store.tables import District, Resident

blp = Blueprint("proposals", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Proposals: submit, endorse, discuss, review")

MONEY_FIELDS = ("estimated_cost", "reviewed_cost")


def proposal_dict(session, city, rnd, p, *, districts=None, authors=None, with_responses=False) -> dict:
    """`districts` (id -> slug) and `authors` (resident id -> display name) spare a list one query per row."""
    districts = districts or {d.id: d.slug for d in session.exec(select(District).where(District.round_id == rnd.id))}
    if p.author_resident_id is not None:
        if authors is None:
            r = session.get(Resident, p.author_resident_id)
            author = r.display_name if r else "resident"
        else:
            author = authors.get(p.author_resident_id, "resident")
    elif p.entered_by_staff_id is not None:
        author = "entered by staff on behalf of residents"
    else:
        author = "voter"
    out = {
        "id": p.id, "round": rnd.slug, "district": districts.get(p.district_id), "title": p.title, "summary": p.summary,
        "description": p.description, "categories": list(p.categories or []),
        "estimated_cost": _scope.to_major(p.estimated_cost, city.currency),
        "reviewed_cost": _scope.to_major(p.reviewed_cost, city.currency),
        "feasible": p.feasible, "status": p.status, "endorsements": p.endorsement_count, "author": author,
        "entered_by_staff": p.entered_by_staff_id is not None, "created_at": p.created_at, "updated_at": p.updated_at,
    }
    if with_responses:
        out["responses"] = svc.responses_of(session, p)
    return out


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
    def get(self, args, city, round):
        """Proposals of the round: filter by district, category, status; search with `q`; paginated."""
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            rows, total = svc.search(s, rnd, district=args.get("district"), category=args.get("category"),
                                     status=args.get("status"), q=args.get("q"), page=args["page"],
                                     per_page=args["per_page"])
            districts = {d.id: d.slug for d in s.exec(select(District).where(District.round_id == rnd.id))}
            resident_ids = {p.author_resident_id for p in rows if p.author_resident_id is not None}
            authors = dict(s.exec(select(Resident.id, Resident.display_name)
                                  .where(Resident.id.in_(resident_ids))).all()) if resident_ids else {}
            return {"proposals": [proposal_dict(s, c, rnd, p, districts=districts, authors=authors) for p in rows],
                    "page": args["page"], "per_page": args["per_page"], "total": total,
                    "pages": ceil(total / args["per_page"])}

    @access(blp, "participant")
    @blp.arguments(ProposalCreateSchema)
    @blp.response(201, ProposalSchema)
    def post(self, data, city, round):
        """Submit a proposal (resident or voter session, while submission is open), or enter one on behalf of residents (staff)."""
        with get_db().write_session() as s:
            c, rnd = _scope.round_(s, city, round)
            data = _minor(data, c.currency)
            token = bearer_token()
            if token and token.startswith(staff_mod.PREFIX):
                st = require_staff(s, c, ANY_STAFF)
                p = svc.submit(s, rnd, data, now=_scope.now(), staff=st)
            else:
                who = participant(s, c, rnd)
                p = svc.submit(s, rnd, data, now=_scope.now(), resident_id=who.resident.id if who.resident else None,
                               voter_key=who.voter_key)
            return proposal_dict(s, c, rnd, p)


@blp.route("/proposals/<int:proposal_id>")
class ProposalView(MethodView):
    @access(blp, "public")
    @blp.response(200, ProposalSchema)
    def get(self, city, round, proposal_id):
        """One proposal with the staff's public responses."""
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            return proposal_dict(s, c, rnd, _scope.proposal(s, rnd, proposal_id), with_responses=True)

    @access(blp, "participant")
    @blp.arguments(ProposalPatchSchema)
    @blp.response(200, ProposalSchema)
    def patch(self, data, city, round, proposal_id):
        """Authors edit their own while submission is open; staff correct and review (reviewed_cost, feasible, status)."""
        with get_db().write_session() as s:
            c, rnd = _scope.round_(s, city, round)
            p = _scope.proposal(s, rnd, proposal_id)
            data = _minor(data, c.currency)
            token = bearer_token()
            if token and token.startswith(staff_mod.PREFIX):
                st = require_staff(s, c, ANY_STAFF)
                svc.review(s, rnd, p, data, staff=st, now=_scope.now())
            else:
                who = participant(s, c, rnd)
                svc.edit_by_author(s, rnd, p, data, participant_key=who.key, now=_scope.now())
            return proposal_dict(s, c, rnd, p, with_responses=True)


@blp.route("/proposals/<int:proposal_id>/endorsements")
class Endorsements(MethodView):
    @access(blp, "participant")
    @blp.response(201, EndorsementResultSchema)
    def post(self, city, round, proposal_id):
        """Endorse a proposal (once per person) during submission or endorsement."""
        with get_db().write_session() as s:
            c, rnd = _scope.round_(s, city, round)
            p = _scope.proposal(s, rnd, proposal_id)
            who = participant(s, c, rnd)
            svc.endorse(s, rnd, p, participant_key=who.key, now=_scope.now())
            return {"proposal": p.id, "endorsements": p.endorsement_count, "status": p.status}


@blp.route("/proposals/<int:proposal_id>/comments")
class Comments(MethodView):
    @access(blp, "public")
    @blp.response(200, CommentSchema(many=True))
    def get(self, city, round, proposal_id):
        """Comments on a proposal, oldest first."""
        with get_db().session() as s:
            _c, rnd = _scope.round_(s, city, round)
            return svc.comments_of(s, _scope.proposal(s, rnd, proposal_id))

    @access(blp, "participant")
    @blp.arguments(CommentInSchema)
    @blp.response(201, CommentSchema)
    def post(self, data, city, round, proposal_id):
        """Comment on a proposal (resident or voter session)."""
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            p = _scope.proposal(s, rnd, proposal_id)
            who = participant(s, c, rnd)
            return svc.comment(s, rnd, p, body=data["body"], resident_id=who.resident.id if who.resident else None,
                               author_name=who.display_name, now=_scope.now())


@blp.route("/proposals/<int:proposal_id>/responses")
class Responses(MethodView):
    @access(blp, "staff")
    @blp.arguments(StaffResponseInSchema)
    @blp.response(201, ResponseOutSchema)
    def post(self, data, city, round, proposal_id):
        """A public, structured answer by city staff (answer, review note, implementation progress)."""
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            p = _scope.proposal(s, rnd, proposal_id)
            st = require_staff(s, c, ANY_STAFF)
            return svc.respond(s, rnd, p, staff=st, kind=data["kind"], body=data["body"], now=_scope.now())
