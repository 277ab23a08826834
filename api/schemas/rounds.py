"""A round's JSON shape is its section in city_configs/*.toml; pb_engine.config.parse_round is the judge.

These schemas document that shape and bound every value (no NUL, capped
lengths and numbers) before parse_round checks meaning and names the key.
"""

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from api.schemas.common import Money, Slug, Text
from api.schemas.outcomes import RuleInSchema  # derived from the rule descriptors
from pb_engine.allocation.tiebreak import ROUND_KINDS

BIG = 10**9


def _int(**kw):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=BIG), **kw)


class DistrictInSchema(Schema):
    slug = Slug(required=True)
    name = Text(required=True, min_len=1, max_len=200)
    budget = Money(required=True)
    population = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10**10))


class PlausibleDate(validate.Validator):
    """ISO 8601 date or date-time within years 1900-9000 (so that time zone arithmetic cannot overflow);
    parse_round reads it and names any other problem."""

    def __call__(self, value):
        from datetime import date, datetime

        text = value.strip()
        try:
            when = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{value!r} is not an ISO 8601 date or date-time") from None
        if not 1900 <= when.year <= 9000:
            raise ValidationError("must be a date between the years 1900 and 9000")
        return value


class PhaseInSchema(Schema):
    name = fields.String(required=True, validate=validate.OneOf(
        ("submission", "endorsement", "review", "voting", "tally", "results", "implementation")))
    starts_at = Text(required=True, min_len=1, max_len=40, validate=PlausibleDate(), metadata={"format": "date-time"})
    ends_at = Text(required=True, min_len=1, max_len=40, validate=PlausibleDate(), metadata={"format": "date-time"})


class BallotInSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("approval", "knapsack", "cumulative", "ranked")))
    min_projects = _int(allow_none=True)
    max_projects = _int(allow_none=True)
    min_spend_share = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=1))
    max_points = _int(allow_none=True)
    max_points_per_project = _int(allow_none=True)
    min_rank = _int(allow_none=True)
    max_rank = _int(allow_none=True)


class EligibilityInSchema(Schema):
    methods = fields.List(fields.String(validate=validate.OneOf(("access_code", "resident"))),
                          validate=validate.Length(min=1, max=2))
    multi_district = fields.Boolean()
    min_age = fields.Integer(strict=True, validate=validate.Range(min=0, max=150))
    code_binding = fields.String(validate=validate.OneOf(("claim", "separate")),
                                 metadata={"description": "how codes bind to resident accounts (default claim)"})


class RoundInSchema(Schema):
    """Create: the whole round section. Read-only keys from GET (current_phase, city, ...) are ignored."""

    class Meta:
        unknown = INCLUDE  # parse_round names unknown keys itself, with the config's key path

    slug = Slug(required=True)
    title = Text(required=True, min_len=1, max_len=200)
    description = Text(max_len=20000)
    budget = Money(required=True)
    districts_must_sum = fields.Boolean()
    endorsement_threshold = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**6))
    endorsement = fields.Dict(metadata={"description": "who may endorse: {require: account | verified}"})
    categories = fields.List(Slug(), validate=validate.Length(max=100))
    districts = fields.List(fields.Nested(DistrictInSchema), required=True, validate=validate.Length(min=1, max=200))
    phases = fields.List(fields.Nested(PhaseInSchema), required=True, validate=validate.Length(min=1, max=7))
    ballot = fields.Nested(BallotInSchema, required=True)
    rule = fields.Nested(RuleInSchema, required=True)
    eligibility = fields.Nested(EligibilityInSchema)
    tie_breaking = fields.String(validate=validate.OneOf(ROUND_KINDS))
    live_turnout = fields.Boolean(metadata={"description": "publish voters and turnout while voting is open"})


class BallotPatchSchema(BallotInSchema):
    kind = fields.String(validate=validate.OneOf(("approval", "knapsack", "cumulative", "ranked")))


class RulePatchSchema(RuleInSchema):
    id = Text(min_len=1, max_len=64)


class RoundPatchSchema(RoundInSchema):
    """Update: any subset of the round section; nested tables are merged key by key, lists replaced."""

    class Meta:
        unknown = INCLUDE

    slug = Slug()
    title = Text(min_len=1, max_len=200)
    budget = Money()
    districts = fields.List(fields.Nested(DistrictInSchema), validate=validate.Length(min=1, max=200))
    phases = fields.List(fields.Nested(PhaseInSchema), validate=validate.Length(min=1, max=7))
    ballot = fields.Nested(BallotPatchSchema)
    rule = fields.Nested(RulePatchSchema)


class DistrictOutSchema(Schema):
    slug = fields.String()
    name = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    population = fields.Integer(allow_none=True)


class PhaseOutSchema(Schema):
    name = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()


class RoundSchema(Schema):
    city = fields.String()
    slug = fields.String()
    title = fields.String()
    description = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    currency = fields.String()
    timezone = fields.String()
    districts_must_sum = fields.Boolean()
    endorsement_threshold = fields.Integer()
    endorsement = fields.Dict()
    categories = fields.List(fields.String())
    districts = fields.List(fields.Nested(DistrictOutSchema))
    phases = fields.List(fields.Nested(PhaseOutSchema))
    ballot = fields.Dict()
    rule = fields.Dict()
    eligibility = fields.Dict()
    tie_breaking = fields.String()
    live_turnout = fields.Boolean()
    current_phase = fields.String()
    frozen = fields.Boolean()


class AdvanceResultSchema(RoundSchema):
    previous_phase = fields.String()

