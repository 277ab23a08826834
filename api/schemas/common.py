"""Fields and shapes shared by the resources.

Inputs are bounded here so that no value can reach the database and fail
there: text has no NUL (PostgreSQL refuses it) and a length cap, numbers a
range (money is BigInteger; ids are 32-bit), slugs a pattern.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate

MAX_MONEY = Decimal(10) ** 12      # in major units: a trillion is more than any PB budget
MAX_ID = 2**31 - 1
SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class NoNul(validate.Validator):
    def __call__(self, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError("must not contain NUL characters")
        return value


def Text(*, max_len: int = 200, min_len: int = 0, validate=None, **kw) -> fields.String:  # noqa: A002
    vals = [NoNul(), _length(min_len, max_len)]
    if validate is not None:
        vals.append(validate)
    return fields.String(validate=vals, **kw)


def _length(lo, hi):
    return validate.Length(min=lo, max=hi)


def Slug(**kw) -> fields.String:
    return fields.String(validate=[NoNul(), validate.Regexp(SLUG, error="lowercase letters, digits, '-' or '_'")], **kw)


def Id(**kw) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kw)


class Money(fields.Field):
    """An amount in the city's currency (major units, up to 2 decimals); JSON number or decimal string.

    Dumped as an int when whole, else an exact decimal string (the outcome's convention).
    """

    def __init__(self, **kw):
        kw.setdefault("metadata", {})
        kw["metadata"].setdefault("type", "number")
        kw["metadata"].setdefault("minimum", 0)
        kw["metadata"].setdefault("maximum", int(MAX_MONEY))
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError("must be an amount of money, e.g. 12000 or 12000.50")
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError("must be an amount of money, e.g. 12000 or 12000.50") from None
        if not amount.is_finite():
            raise ValidationError("must be a finite amount")
        if amount < 0:
            raise ValidationError("must be zero or more")
        if amount > MAX_MONEY:
            raise ValidationError(f"must be at most {MAX_MONEY}")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("at most 2 decimal places")
        return amount

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return money_json(value)


def money_json(value):
    d = Decimal(value) if not isinstance(value, Decimal) else value
    if d == d.to_integral_value():
        return int(d)
    return format(d.normalize(), "f")


class ErrorSchema(Schema):
    code = fields.String(required=True)
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(required=True)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageInfo(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()
