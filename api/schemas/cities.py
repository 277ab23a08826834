from marshmallow import Schema, fields, validate

from api.schemas.common import NoNul, Slug, Text


class CategorySchema(Schema):
    slug = fields.String()
    name = fields.String()
    taxonomy = fields.String()


class RoundSummarySchema(Schema):
    slug = fields.String()
    title = fields.String()
    current_phase = fields.String()
    budget = fields.Raw(metadata={"type": "number"})
    url = fields.String()


class CitySchema(Schema):
    slug = fields.String()
    name = fields.String()
    country = fields.String()
    population = fields.Integer(allow_none=True)
    currency = fields.String()
    locales = fields.List(fields.String())
    timezone = fields.String()
    notes = fields.String()
    categories = fields.List(fields.Nested(CategorySchema))
    rounds = fields.List(fields.Nested(RoundSummarySchema))


class ResidentRegisterSchema(Schema):
    username = fields.String(required=True, validate=[NoNul(), validate.Regexp(r"^[A-Za-z0-9_.-]{3,64}$",
                             error="3 to 64 letters, digits, '_', '.' or '-'")])
    password = Text(required=True, min_len=8, max_len=200)
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"description": "where the link that finishes the sign-up is sent"})
    display_name = Text(max_len=100)
    district = Slug(allow_none=True)


class SignUpResultSchema(Schema):
    status = fields.String(metadata={"description": "always check_email: the same for a free and a taken username"})
    message = fields.String()


class ResidentConfirmSchema(Schema):
    token = Text(required=True, min_len=1, max_len=200, metadata={"description": "the token of the e-mailed link"})


class ResidentLoginSchema(Schema):
    username = Text(required=True, min_len=1, max_len=64)
    password = Text(required=True, min_len=1, max_len=200)


class ResidentSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    district = fields.String(attribute="district_slug", allow_none=True)
    verified = fields.Boolean()


class LoginResultSchema(Schema):
    token = fields.String()
    resident = fields.Nested(ResidentSchema)


class StaffCreateSchema(Schema):
    name = Text(required=True, min_len=1, max_len=100)
    role = fields.String(required=True, validate=validate.OneOf(("manager", "reviewer", "clerk", "viewer", "admin")))


class StaffSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    token = fields.String(metadata={"description": "shown once, when the staff member is made"})


class AuditArgs(Schema):
    round = Slug()
    action = Text(max_len=64)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    round = fields.String(allow_none=True)
    target = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class AuditPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ResidentVerifySchema(Schema):
    verified = fields.Boolean(required=True)
    district = Slug(metadata={"description": "the district the resident lives in (a district slug of the city's rounds)"})
