"""One error mapping for every failure, JSON for the API and a readable page for people.

- /api/… (and /healthz): {code, status, message, errors}. flask-smorest already answers its own
  errors (schema validation: 422 with field errors) in this shape; domain errors and unexpected
  ones are mapped here, so no input can produce an HTML error page or a bare 500 trace there.
- pages: the same status with a page in the visitor's language. Forms catch their own refusals
  and show them beside the fields, keeping what was typed (api/pages/forms.py); what reaches
  this handler is shown as a page of its own.
- the database unreachable (PostgreSQL stopped or cut off, a pool that cannot hand out a connection,
  SQLite locked past its busy timeout): 503 with Retry-After, never a trace. The engine pings a
  pooled connection before use (store.db._pre_ping), so requests succeed again as soon as the database is
  back, without a restart; a ballot skips the ping and is run again when its connection was dead.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_smorest import Api
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, fields
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from pb_engine.errors import PBError

log = logging.getLogger(__name__)


class ErrorSchema(Schema):
    """The one error shape, as the OpenAPI document states it for every operation's error answers."""
    code = fields.String(required=True, metadata={"description": "what went wrong, for programs (e.g. not_found)"})
    status = fields.Integer(required=True, metadata={"description": "the HTTP status, repeated"})
    message = fields.String(required=True, metadata={"description": "what went wrong, in words"})
    errors = fields.Dict(required=True, metadata={"description": "field -> messages (empty when no field is to blame)"})


class ServiceApi(Api):
    """flask-smorest's Api documenting our error shape (its own default says code: integer, status: string)."""
    ERROR_SCHEMA = ErrorSchema


def deduplicated(errors):
    """Field errors with each repeated message once, in first-seen order, marked "(×N)": one bad id sent 500
    times is one entry, not 500. Index-keyed lists of marshmallow ({"0": [m], "1": [m], ...}) merge likewise
    under their first index."""
    if isinstance(errors, list):
        counts: dict = {}
        for m in errors:
            key = m if isinstance(m, str) else repr(m)
            counts.setdefault(key, [m, 0])[1] += 1
        return [m if n == 1 or not isinstance(m, str) else f"{m} (×{n})" for m, n in counts.values()]
    if not isinstance(errors, dict):
        return errors
    if len(errors) > 1 and all(str(k).isdigit() for k in errors):
        groups: dict = {}
        for k, v in errors.items():
            groups.setdefault(repr(v), [k, v, 0])[2] += 1
        if len(groups) < len(errors):
            return {k: deduplicated(v) if n == 1 else
                    [f"{m} (×{n})" if isinstance(m, str) else m for m in deduplicated(v)]
                    if isinstance(v, list) else deduplicated(v) for k, v, n in groups.values()}
    return {k: deduplicated(v) for k, v in errors.items()}


def _joined_once(message: str, errors: dict) -> str:
    """A refusal's message that joins every field message ("a; a; a") says each once, counted like its errors."""
    flat = [m for ms in errors.values() if isinstance(ms, list) for m in ms if isinstance(m, str)]
    if len(flat) > 1 and message == "; ".join(flat):
        return "; ".join(deduplicated(flat))
    return message


def error_response(status: int, code: str, message: str, errors: dict | None = None):
    errors = errors or {}
    message, errors = _joined_once(message, errors), deduplicated(errors)
    resp = jsonify({"code": code, "status": status, "message": message, "errors": errors})
    resp.status_code = status
    return resp


def wants_page() -> bool:
    path = request.path
    return not (path.startswith("/api/") or path == "/api" or path == "/healthz")


def error_page(status: int, message: str, title: str | None = None):
    from api.i18n import _

    titles = {400: _("The request could not be handled"), 401: _("Please sign in"), 403: _("Not allowed"),
              404: _("Page not found"), 405: _("Not allowed"), 409: _("Not possible now"),
              413: _("Too large"), 422: _("Please check what you entered"), 429: _("Too many attempts"),
              500: _("Something went wrong"), 503: _("The service is busy")}
    heading = title or titles.get(status) or _("Something went wrong")
    return render_template("error.html", status=status, heading=heading, message=message), status


RETRY_AFTER = 5  # seconds: what a client should wait before asking again while the database is away


def database_unavailable(err: BaseException | None) -> bool:
    """Whether `err` means the database cannot be reached now (retrying later helps), not a bug."""
    if isinstance(err, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
        return True
    if isinstance(err, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        if "sqlite" in type(err.orig).__module__:
            # SQLite's OperationalError also means "no such table" (a bug): only a busy database is a 503.
            text = str(err.orig).lower()
            return "locked" in text or "busy" in text or "unable to open" in text
        return True
    return False


def unavailable_response():
    from api.i18n import _

    log.warning("database unavailable: answering 503", exc_info=True)
    if wants_page():
        body, status = error_page(503, _("The service cannot reach its database just now. Your last "
                                         "confirmed action is kept; please try again in a few seconds."))
        resp = current_app.make_response((body, status))
    else:
        resp = error_response(503, "database_unavailable",
                              f"the database is unavailable; try again in {RETRY_AFTER} seconds")
    resp.headers["Retry-After"] = str(RETRY_AFTER)
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(PBError)
    def _domain(err: PBError):
        if wants_page():
            from api.messages import describe

            return error_page(err.status, describe(err))
        return error_response(err.status, err.code, err.message, err.errors)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        if wants_page():
            from api.i18n import _

            return error_page(400, _("This form has expired or did not come from this site. Go back, reload "
                                     "the page and send it again."))
        return error_response(400, "csrf_failed", f"CSRF check failed: {err.description}; send the X-CSRFToken "
                                                  "header, or authenticate with a bearer token instead of the cookie")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if database_unavailable(getattr(err, "original_exception", None)):
            return unavailable_response()  # raised after the view (the unit of work's commit)
        if wants_page():
            from api.i18n import _

            texts = {401: _("Sign in first to use this page."),
                     403: _("You are not allowed to use this page."),
                     404: _("There is no page at this address."),
                     405: _("This page cannot be used that way."),
                     413: _("What you sent is too large.")}
            return error_page(err.code or 500, texts.get(err.code, _("The request could not be handled.")))
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
        if err.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
            size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit // 1024} KiB"
            message = f"the body is larger than {size}, the most this service takes"
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
        if database_unavailable(err):
            return unavailable_response()
        log.exception("unhandled error")
        if wants_page():
            from api.i18n import _

            return error_page(500, _("An internal error happened; it has been logged. Please try again later."))
        return error_response(500, "internal_error", "internal error; it has been logged")
