from marshmallow import Schema, fields


class JobSchema(Schema):
    """A background job (pb_engine.jobs): its state and progress, and what it produced."""
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "e.g. outcome.run"})
    state = fields.String(required=True, metadata={"description": "queued | running | done | failed"})
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)
    percent = fields.Integer(allow_none=True)
    message = fields.String()
    result = fields.Dict(allow_none=True, metadata={"description": "outcome.run: {outcome, city, round}"})
    error = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    status_url = fields.String(metadata={"description": "this job's JSON (poll it)"})
    page_url = fields.String(metadata={"description": "the console page that shows its progress"})
    result_url = fields.String(allow_none=True, metadata={"description": "what it produced, once done"})
