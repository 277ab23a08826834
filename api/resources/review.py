"""Staff review over JSON: the review queue, merging a duplicate, hiding and showing comments.

The same read model (pb_engine.queries.review) and services (pb_engine.merging, pb_engine.proposals)
as the console's review pages. Reading the queue takes a staff token of the city (any role); acting
takes reviewer or manager. No token: 401; a token of another city: 403.
"""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import READ, REVIEW, access, require_staff
from api.context import uow
from api.resources import _scope
from api.resources.proposals import proposal_dict
from api.schemas.common import Id, PageArgs, PageInfo, Slug, Text
from api.schemas.proposals import ProposalSchema
from pb_engine import merging, proposals as svc
from pb_engine.errors import NotFound
from pb_engine.queries import proposals as public
from pb_engine.queries import review as queries
from pb_engine.store.tables import Comment, Proposal

blp = Blueprint("review", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Staff review: the queue, merging duplicates, moderating comments")


class QueueQuerySchema(PageArgs):
    district = Slug()
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    category = Slug()
    feasibility = fields.String(validate=validate.OneOf(queries.FEASIBILITY))
    needs_review = fields.Boolean(load_default=False, metadata={"description": "no reviewed cost or feasibility yet"})
    unanswered = fields.Boolean(load_default=False, metadata={"description": "no staff response yet"})
    q = Text(max_len=200)
    sort = fields.String(validate=validate.OneOf(queries.SORTS))


class QueueItemSchema(ProposalSchema):
    response_count = fields.Integer()
    comment_count = fields.Integer()
    hidden_comment_count = fields.Integer()
    needs_review = fields.Boolean()


class QueueSchema(PageInfo):
    proposals = fields.List(fields.Nested(QueueItemSchema))
    status_counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class MergeInSchema(Schema):
    into = Id(required=True, metadata={"description": "the proposal that stays"})
    note = Text(max_len=1000, load_default="", metadata={"description": "public note in both status histories"})


class MergeOutSchema(Schema):
    duplicate = fields.Nested(ProposalSchema)
    target = fields.Nested(ProposalSchema)
    authors = fields.List(fields.String())


class HideInSchema(Schema):
    reason = Text(required=True, max_len=1000, metadata={"description": "kept in the audit log"})


class StaffCommentSchema(Schema):
    id = fields.Integer()
    proposal = fields.Integer(attribute="proposal_id")
    author = fields.String(attribute="author_name")
    body = fields.String()
    created_at = fields.DateTime()
    hidden = fields.Function(lambda c: c.hidden_at is not None)
    hidden_at = fields.DateTime(allow_none=True)
    hidden_reason = fields.String()
    hidden_by = fields.Integer(allow_none=True)


def _queue_item(c, q: queries.QueueItem) -> dict:
    out = proposal_dict(c, q.item)
    out.update(response_count=q.responses, comment_count=q.comments, hidden_comment_count=q.hidden_comments,
               needs_review=q.needs_review)
    return out


@blp.route("/review")
class Queue(MethodView):
    @access(blp, "staff", READ)
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, QueueSchema)
    def get(self, args, city, round):
        """The review queue: filters (district, status, category, feasibility, needs_review, unanswered, q), sort, pages."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, READ)  # before the round is looked up: another city's staff learns nothing
        _c, rnd = _scope.round_(s, city, round)
        f = queries.QueueFilters(district=args.get("district"), status=args.get("status"),
                                 category=args.get("category"), feasibility=args.get("feasibility"),
                                 needs_review=args["needs_review"], unanswered=args["unanswered"], q=args.get("q"),
                                 sort=args.get("sort"), page=args["page"], per_page=args["per_page"])
        queue = queries.review_queue(s, rnd, f)
        return {"proposals": [_queue_item(c, q) for q in queue.items], "page": queue.page,
                "per_page": queue.per_page, "total": queue.total, "pages": queue.pages,
                "status_counts": queue.status_counts}


def _acting(city, round, proposal_id, roles=REVIEW):
    s = uow(write=True)
    c = _scope.city(s, city)
    st = require_staff(s, c, roles)
    _c, rnd = _scope.round_(s, city, round)
    return s, c, rnd, st, _scope.proposal(s, rnd, proposal_id)


@blp.route("/proposals/<int:proposal_id>/merge")
class Merge(MethodView):
    @access(blp, "staff", REVIEW)
    @blp.arguments(MergeInSchema)
    @blp.response(200, MergeOutSchema)
    def post(self, data, city, round, proposal_id):
        """Merge this duplicate into `into` (same round, before voting): endorsements, comments and authors go over."""
        s, c, rnd, st, dup = _acting(city, round, proposal_id)
        target = s.get(Proposal, data["into"]) if 0 < data["into"] <= _scope.MAX_ID else None
        if target is None:
            raise NotFound(f"no proposal {data['into']} in round {rnd.slug!r}", {"into": ["no such proposal"]})
        merging.merge(s, rnd, dup, target, staff=st, now=_scope.now(), note=data["note"])
        it = public.item(s, rnd, target)
        return {"duplicate": proposal_dict(c, public.item(s, rnd, dup)), "target": proposal_dict(c, it),
                "authors": list(public.authors_of(s, target, it.author))}


@blp.route("/proposals/<int:proposal_id>/staff-comments")
class StaffComments(MethodView):
    @access(blp, "staff", READ)
    @blp.response(200, StaffCommentSchema(many=True))
    def get(self, city, round, proposal_id):
        """Every comment of the proposal, hidden ones too (marked, with the reason): for staff."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, READ)
        _c, rnd = _scope.round_(s, city, round)
        return svc.comments_of(s, _scope.proposal(s, rnd, proposal_id), include_hidden=True)


def _comment(s, p, comment_id) -> Comment:
    cm = s.get(Comment, comment_id) if 0 < comment_id <= _scope.MAX_ID else None
    if cm is None or cm.proposal_id != p.id:
        raise NotFound(f"no comment {comment_id} on proposal {p.id}")
    return cm


@blp.route("/proposals/<int:proposal_id>/comments/<int:comment_id>/hide")
class HideComment(MethodView):
    @access(blp, "staff", REVIEW)
    @blp.arguments(HideInSchema)
    @blp.response(200, StaffCommentSchema)
    def post(self, data, city, round, proposal_id, comment_id):
        """Hide a comment from the public (the reason is required and audited; the text is kept)."""
        s, c, rnd, st, p = _acting(city, round, proposal_id)
        return svc.hide_comment(s, rnd, p, _comment(s, p, comment_id), staff=st, reason=data["reason"],
                                now=_scope.now())


@blp.route("/proposals/<int:proposal_id>/comments/<int:comment_id>/unhide")
class UnhideComment(MethodView):
    @access(blp, "staff", REVIEW)
    @blp.response(200, StaffCommentSchema)
    def post(self, city, round, proposal_id, comment_id):
        """Show a hidden comment again (audited)."""
        s, c, rnd, st, p = _acting(city, round, proposal_id)
        return svc.unhide_comment(s, rnd, p, _comment(s, p, comment_id), staff=st, now=_scope.now())
