from marshmallow import INCLUDE, Schema, fields, validate

from api.schemas.common import Slug, Text
from pb_engine.allocation.registry import all_options

BIG = 10**12   # bound on any number option (a score, a share, an increment)


def _option_field(takers) -> fields.Field:
    """A rule option's field, from the descriptors of the rules that take it: it bounds the value and
    documents it; RuleSpec.from_dict (via parse_round / parse_rule) judges it for the chosen rule and names the key."""
    opt = takers[0][1]
    meta = {"description": "; ".join(f"{r.id}: {o.help}" for r, o in takers)}
    if opt.type == "choice":
        meta["enum"] = list(dict.fromkeys(c for _r, o in takers for c in o.choices))
        return Text(max_len=64, allow_none=True, metadata=meta)
    if opt.type == "boolean":
        return fields.Boolean(allow_none=True, metadata=meta)
    lows = [o.minimum for _r, o in takers]
    highs = [o.maximum for _r, o in takers]
    low = None if None in lows else min(lows)
    high = BIG if None in highs else max(highs)
    bounds = validate.Range(min=None if low is None else float(low), max=float(high))
    if opt.type == "integer":
        return fields.Integer(strict=True, allow_none=True, validate=bounds, metadata=meta)
    return fields.Float(allow_none=True, allow_nan=False, validate=bounds, metadata=meta)


class RuleInSchema(Schema.from_dict(
        {"id": Text(required=True, min_len=1, max_len=64, metadata={"description": "a rule id: GET /api/v1/rules"}),
         **{name: _option_field(takers) for name, takers in all_options().items()}}, name="RuleInBase")):
    """A round's rule: `id` and that rule's options, one field per option name of the registered rules."""

    class Meta:
        unknown = INCLUDE  # RuleSpec.from_dict names an unknown key itself, with the allowed ones


class RuleOptionSchema(Schema):
    name = fields.String()
    type = fields.String(metadata={"description": "choice | number | integer | boolean"})
    default = fields.Raw(allow_none=True)
    help = fields.String()
    choices = fields.List(fields.String())
    minimum = fields.Raw(metadata={"type": "number"})
    exclusive_minimum = fields.Raw(metadata={"type": "number"})
    maximum = fields.Raw(metadata={"type": "number"})


class RuleDescriptorSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    ballot_kinds = fields.List(fields.String(), metadata={"description": "Pabulib vote types the rule takes"})
    exhaustive = fields.Boolean(metadata={"description": "with its default options, funds until no supported "
                                                         "project fits"})
    options = fields.List(fields.Nested(RuleOptionSchema))


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
    ballots_digest = fields.String(metadata={"description": "digest of the district's counted ballots (README: "
                                                            "Backup and integrity); its .pb export carries it"})
    funded = fields.List(fields.Nested(ProjectResultSchema))
    projects = fields.List(fields.Nested(ProjectResultSchema))


class BallotsCheckDistrictSchema(Schema):
    district = fields.String()
    published = fields.String()
    current = fields.String()
    matches = fields.Boolean()


class BallotsCheckSchema(Schema):
    status = fields.String(metadata={"description": "match: the ballots stored now are those counted; mismatch: "
                                                    "a ballot changed after publication"})
    published = fields.String()
    current = fields.String()
    districts = fields.List(fields.Nested(BallotsCheckDistrictSchema))


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
    ballots_check = fields.Nested(BallotsCheckSchema)
    receipts = fields.Dict(metadata={"description": "per district, the sorted receipts of every ballot received (replaced ones too, so that the list does not tell who changed their vote)"})


class ExportArgs(Schema):
    district = Slug(metadata={"description": "the district to export (default: the first)"})
