"""Shapes of implementation progress updates, the round's implementation overview and the comparison of
outcomes (money in major units, dates as the city's calendar days)."""

from marshmallow import Schema, fields, validate

from api.schemas.common import Money, Text
from pb_engine.implementation import MAX_NOTE, MAX_PHOTO, STATUSES


class UpdateInSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    percent_done = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    spent = Money(allow_none=True, metadata={"description": "spend so far, major units"})
    on_date = fields.Date(required=True, metadata={"description": "the day the report speaks for (city's calendar)"})
    note = Text(max_len=MAX_NOTE, load_default="")
    photo = fields.String(allow_none=True, validate=validate.Length(max=(MAX_PHOTO * 4) // 3 + 8),
                          metadata={"description": "optional JPEG, PNG or WebP, base64; at most 1.5 MiB"})


class UpdateSchema(Schema):
    id = fields.Integer()
    proposal = fields.Integer()
    status = fields.String()
    percent_done = fields.Integer()
    spent = fields.Raw(allow_none=True, metadata={"type": "number"})
    on_date = fields.String(metadata={"description": "YYYY-MM-DD in the city's time zone"})
    note = fields.String()
    photo_url = fields.String(allow_none=True)
    photo_type = fields.String(allow_none=True)
    created_at = fields.DateTime()


class FundedProjectSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    district = fields.String()
    cost = fields.Raw(metadata={"type": "number"})
    status = fields.String()
    percent_done = fields.Integer()
    spent = fields.Raw(allow_none=True, metadata={"type": "number"})
    updates = fields.Integer()
    latest = fields.Nested(UpdateSchema, allow_none=True)


class OverviewSchema(Schema):
    round = fields.String()
    currency = fields.String()
    published = fields.Boolean()
    total_cost = fields.Raw(metadata={"type": "number"})
    total_spent = fields.Raw(metadata={"type": "number"})
    done = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    projects = fields.List(fields.Nested(FundedProjectSchema))


class CompareArgs(Schema):
    # Not required here: who asks is checked first (a foreign token learns nothing, not even that ids
    # are missing), then pb_engine.queries.outcome_comparison.parse_ids refuses an empty list naming `ids`.
    ids = fields.String(load_default="", metadata={"description": "outcome ids, comma-separated, e.g. 1,2 (required)"})


class ComparisonSchema(Schema):
    outcomes = fields.List(fields.Dict())
    same_ballots = fields.Boolean()
    totals = fields.List(fields.Dict(), metadata={"description": "per outcome, in order: spend, share, fairness"})
    districts = fields.List(fields.Dict())
