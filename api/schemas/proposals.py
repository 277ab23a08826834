from marshmallow import Schema, fields, validate

from api.schemas.common import Money, PageArgs, PageInfo, Slug, Text
from pb_engine.proposals import RESPONSE_KINDS, STATUSES

Categories = lambda **kw: fields.List(Slug(), validate=validate.Length(max=20), **kw)  # noqa: E731


class ProposalCreateSchema(Schema):
    title = Text(required=True, min_len=1, max_len=200)
    summary = Text(max_len=1000, load_default="")
    description = Text(max_len=20000, load_default="")
    district = Slug(required=True)
    categories = Categories(load_default=list)
    estimated_cost = Money(allow_none=True, load_default=None)
    borrowed_from = fields.Integer(strict=True, allow_none=True, load_default=None,
                                   metadata={"description": "id of another round's proposal this idea starts from "
                                                            "(GET /api/v1/proposals); the origin is kept and shown"})


class ProposalPatchSchema(Schema):
    title = Text(min_len=1, max_len=200)
    summary = Text(max_len=1000)
    description = Text(max_len=20000)
    district = Slug()
    categories = Categories()
    estimated_cost = Money(allow_none=True)
    reviewed_cost = Money(allow_none=True, metadata={"description": "staff"})
    feasible = fields.Boolean(allow_none=True, metadata={"description": "staff"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": "staff"})
    status_note = Text(max_len=2000, metadata={"description": "staff: the public reason of a status change, shown in its history"})


class ProposalQuerySchema(PageArgs):
    district = Slug()
    category = Slug()
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = Text(max_len=200, metadata={"description": "search in title, summary and description"})


class ResponseOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class ProposalSchema(Schema):
    id = fields.Integer()
    round = fields.String()
    district = fields.String()
    title = fields.String()
    summary = fields.String()
    description = fields.String()
    categories = fields.List(fields.String())
    estimated_cost = fields.Raw(allow_none=True, metadata={"type": "number"})
    reviewed_cost = fields.Raw(allow_none=True, metadata={"type": "number"})
    feasible = fields.Boolean(allow_none=True)
    status = fields.String()
    endorsements = fields.Integer()
    author = fields.String()
    entered_by_staff = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    responses = fields.List(fields.Nested(ResponseOutSchema))
    borrowed_from = fields.Dict(allow_none=True, metadata={
        "description": "the proposal this idea was started from: {proposal_id, city, city_name, round, round_title, "
                       "title}; proposal_id is null once the original is gone"})


class ProposalPageSchema(PageInfo):
    proposals = fields.List(fields.Nested(ProposalSchema))


class EndorsementResultSchema(Schema):
    proposal = fields.Integer()
    endorsements = fields.Integer()
    status = fields.String()


class CommentInSchema(Schema):
    body = Text(required=True, min_len=1, max_len=5000)


class CommentSchema(Schema):
    id = fields.Integer()
    author = fields.String(attribute="author_name")
    body = fields.String()
    created_at = fields.DateTime()


class StaffResponseInSchema(Schema):
    body = Text(required=True, min_len=1, max_len=10000)
    kind = fields.String(load_default="answer", validate=validate.OneOf(RESPONSE_KINDS))

