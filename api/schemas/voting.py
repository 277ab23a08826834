from marshmallow import Schema, fields, validate

from api.schemas.common import MAX_ID, Slug, Text

ProjectId = lambda: fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))  # noqa: E731


class VoterSessionInSchema(Schema):
    access_code = Text(min_len=1, max_len=64, metadata={"description": "the printed access code; or send a resident token instead"})


class VoterSessionSchema(Schema):
    token = fields.String()
    method = fields.String()
    district = fields.String(allow_none=True)


class BallotContentSchema(Schema):
    """One of: projects (approval, knapsack), points (cumulative), ranking (ranked)."""

    projects = fields.List(ProjectId(), validate=validate.Length(max=500))
    points = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")),
                         values=fields.Integer(strict=True, validate=validate.Range(min=0, max=10**6)),
                         validate=validate.Length(max=500))
    ranking = fields.List(ProjectId(), validate=validate.Length(max=500))


class PaperBallotInSchema(BallotContentSchema):
    district = Slug(required=True)
    access_code = Text(min_len=1, max_len=64)
    resident = Text(min_len=1, max_len=64, metadata={"description": "the resident's username"})


class ReceiptSchema(Schema):
    receipt = fields.String()
    district = fields.String()
    channel = fields.String()
    version = fields.Integer()
    replaced = fields.Boolean()
    cast_at = fields.String(metadata={"format": "date-time"})
    content = fields.Dict()


class BallotProjectSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    cost = fields.Raw(metadata={"type": "number"})
    categories = fields.List(fields.String())


class CastBallotSchema(Schema):
    district = fields.String()
    content = fields.Dict()
    receipt = fields.String()
    version = fields.Integer()
    channel = fields.String()
    cast_at = fields.String(metadata={"format": "date-time"})


class BallotViewSchema(Schema):
    district = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    rules = fields.Dict()
    projects = fields.List(fields.Nested(BallotProjectSchema))
    ballot = fields.Nested(CastBallotSchema, allow_none=True)
    ballot_hidden = fields.Boolean(metadata={"description": "voting has closed: one's own ballot is shown no more"})


class AccessCodesInSchema(Schema):
    district = Slug(required=True)
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    batch = Text(max_len=64, load_default="")


class AccessCodesSchema(Schema):
    district = fields.String()
    batch = fields.String()
    codes = fields.List(fields.String())


class ReceiptCheckSchema(Schema):
    receipt = fields.String()
    status = fields.String(metadata={"description": "received (a counting or a replaced ballot alike) | unknown"})
