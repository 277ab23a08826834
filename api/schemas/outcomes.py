from marshmallow import Schema, fields, validate

from api.schemas.common import Slug
from api.schemas.rounds import RuleInSchema


class OutcomeRunSchema(Schema):
    rule = fields.Nested(RuleInSchema, metadata={"description": "a what-if rule; omit to run the round's own rule"})


class ProjectResultSchema(Schema):
    id = fields.Raw(metadata={"type": "integer"})
    title = fields.String()
    funded = fields.Boolean()
    reason = fields.String()
    message = fields.String()
    cost = fields.Raw(metadata={"type": "number"})
    score = fields.Raw(allow_none=True)
    step = fields.Integer(allow_none=True)
    price_per_supporter = fields.Raw(allow_none=True)
    details = fields.Dict()


class DistrictOutcomeSchema(Schema):
    district = fields.String()
    name = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    ballots = fields.Integer()
    selected = fields.List(fields.Raw(metadata={"type": "integer"}))
    total_cost = fields.Raw(metadata={"type": "number"})
    projects = fields.List(fields.Nested(ProjectResultSchema))
    rule = fields.String()
    options = fields.Dict()
    tie_breaking = fields.Dict()
    input_hash = fields.String()
    notes = fields.List(fields.String())


class OutcomeSchema(Schema):
    id = fields.Integer()
    round = fields.String()
    status = fields.String(metadata={"description": "draft | published | superseded"})
    what_if = fields.Boolean()
    rule = fields.Dict()
    input_hash = fields.String()
    engine_version = fields.String()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    supersedes = fields.Integer(allow_none=True)
    districts = fields.List(fields.Nested(DistrictOutcomeSchema))


class OutcomeListArgs(Schema):
    status = fields.String(validate=validate.OneOf(("draft", "published", "superseded")))


class ResultsDistrictSchema(Schema):
    district = fields.String()
    name = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    spend = fields.Raw(metadata={"type": "number"})
    ballots = fields.Integer(allow_none=True)
    funded = fields.List(fields.Nested(ProjectResultSchema))
    projects = fields.List(fields.Nested(ProjectResultSchema))


class ResultsSchema(Schema):
    city = fields.String()
    round = fields.String()
    currency = fields.String()
    outcome = fields.Integer()
    published_at = fields.DateTime()
    rule = fields.Dict()
    input_hash = fields.String()
    engine_version = fields.String()
    supersedes = fields.Integer(allow_none=True)
    districts = fields.List(fields.Nested(ResultsDistrictSchema))
    turnout = fields.Dict()
    receipts = fields.Dict(metadata={"description": "per district, the sorted receipts of the counted ballots"})


class ExportArgs(Schema):
    district = Slug(metadata={"description": "the district to export (default: the first)"})
