"""Domain errors.

Every refusal the engine makes is one of these. The API maps them to HTTP
statuses in one handler; the CLI prints their message. `errors` names the
field(s) and the rule broken, so a client can show it next to the input.
"""

from __future__ import annotations


class PBError(Exception):
    """Base class: a refusal with a code, an HTTP-ish status and field errors."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def to_dict(self) -> dict:
        return {"code": self.code, "status": self.status, "message": self.message, "errors": self.errors}


class ValidationFailed(PBError):
    """Input breaks a rule. `errors` maps field name -> list of messages."""

    status = 422
    code = "validation_failed"

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, {field: [message]})


class Unauthorized(PBError):
    status = 401
    code = "unauthorized"


class Forbidden(PBError):
    status = 403
    code = "forbidden"


class NotFound(PBError):
    status = 404
    code = "not_found"


class Conflict(PBError):
    """The request is valid but the state forbids it (phase closed, frozen round, already published)."""

    status = 409
    code = "conflict"


class PhaseClosed(Conflict):
    code = "phase_closed"


class ConfigError(ValidationFailed):
    """A city config file is refused. The message names file and key."""

    code = "config_error"

    def __init__(self, file: str, key: str, problem: str):
        self.file = file
        self.key = key
        self.problem = problem
        message = f"{file}: {key}: {problem}"
        super().__init__(message, {key: [problem]})


class PabulibError(ValidationFailed):
    """A malformed .pb file. The message names the line number and what is wrong."""

    code = "pabulib_error"

    def __init__(self, line: int | None, problem: str, source: str | None = None):
        self.line = line
        self.problem = problem
        where = f"{source}:" if source else ""
        where += f"line {line}: " if line is not None else " "
        super().__init__(f"{where}{problem}".strip(), {"line": [problem]})
