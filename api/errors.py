"""One error format for every failure: {code, status, message, errors}.

flask-smorest already answers its own errors (schema validation: 422 with
field errors) in this shape; domain errors and unexpected ones are mapped
here, so no input can produce an HTML error page or a bare 500 trace.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from pb_engine.errors import PBError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, errors: dict | None = None):
    resp = jsonify({"code": code, "status": status, "message": message, "errors": errors or {}})
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(PBError)
    def _domain(err: PBError):
        return error_response(err.status, err.code, err.message, err.errors)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        data = getattr(err, "data", None) or {}
        messages = data.get("messages") or {}
        # webargs puts field errors under messages[location]; flatten the location away.
        errors = {}
        for loc, fields in messages.items():
            if isinstance(fields, dict):
                errors.update(fields)
            else:
                errors[loc] = fields
        code = (err.name or "error").lower().replace(" ", "_")
        message = data.get("message") or err.description or err.name
        if errors and err.code == 422:
            fields = ", ".join(sorted(map(str, errors)))
            message = f"invalid input: {fields}"
            code = "validation_failed"
        elif errors and err.code == 400:
            # e.g. {"json": ["Invalid JSON body."]}: say what was wrong, not the browser boilerplate.
            message = "bad request: " + "; ".join(
                f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}" for field, msgs in errors.items())
        return error_response(err.code or 500, code, message, errors)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; it has been logged")
