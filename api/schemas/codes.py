"""Access code batches, their usage, revoking, and paper ballot entries (double entry)."""

from marshmallow import Schema, fields, validate

from api.schemas.common import Slug, Text


class CountsSchema(Schema):
    issued = fields.Integer()
    used = fields.Integer()
    revoked = fields.Integer()
    sealed = fields.Integer(metadata={"description": "codes that can still be printed (batch not marked printed)"})
    unused = fields.Integer()


class DistrictCodesSchema(Schema):
    district = fields.String()
    name = fields.String()
    counts = fields.Nested(CountsSchema)


class BatchCodesSchema(Schema):
    batch = fields.String()
    districts = fields.List(fields.String())
    created_at = fields.String(metadata={"format": "date-time"})
    created_by = fields.String(allow_none=True)
    printable = fields.Boolean()
    counts = fields.Nested(CountsSchema)


class CodeUsageSchema(Schema):
    districts = fields.List(fields.Nested(DistrictCodesSchema))
    batches = fields.List(fields.Nested(BatchCodesSchema))
    total = fields.Nested(CountsSchema)


class BatchInSchema(Schema):
    district = Slug(load_default=None, metadata={"description": "a district; leave out for every district "
                                                                "of the round (`count` codes each)"})
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class IssuedBatchSchema(Schema):
    batch = fields.String()
    count = fields.Integer()
    codes = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                        metadata={"description": "district slug -> printable codes"})


class SheetCodeSchema(Schema):
    district = fields.String()
    district_name = fields.String()
    code = fields.String()


class SheetSchema(Schema):
    batch = fields.String()
    round = fields.String()
    title = fields.String()
    url = fields.String(metadata={"description": "where voters start: the round's voting page"})
    codes = fields.List(fields.Nested(SheetCodeSchema))


class PrintedSchema(Schema):
    batch = fields.String()
    wiped = fields.Integer()


class RevokeInSchema(Schema):
    access_code = Text(required=True, min_len=1, max_len=64)


class RevokedSchema(Schema):
    district = fields.String()
    batch = fields.String()
    revoked_at = fields.String(metadata={"format": "date-time"})


class PaperEntryResultSchema(Schema):
    status = fields.String(metadata={"description": "pending (waits for its second entry), counted (the second "
                                                    "entry matched: the ballot counts) or mismatch (it differed: "
                                                    "both entries set aside, enter it again from the paper)"})
    entry = fields.Integer()
    district = fields.String()
    receipt = fields.String(allow_none=True)
    replaced = fields.Boolean()


class OpenEntrySchema(Schema):
    id = fields.Integer()
    district = fields.String()
    status = fields.String()
    entered_by = fields.String(allow_none=True)
    entered_at = fields.String(metadata={"format": "date-time"})


class OpenEntriesSchema(Schema):
    entries = fields.List(fields.Nested(OpenEntrySchema))


class DiscardedSchema(Schema):
    entry = fields.Integer()
    status = fields.String()
