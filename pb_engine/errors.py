"""Domain errors.

Every refusal the engine makes is one of these. The API maps them to HTTP
statuses in one handler; the CLI prints their message. `errors` names the
field(s) and the rule broken, so a client can show it next to the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping


@dataclass(frozen=True)
class Problem:
    """One broken rule, for words chosen at the edge: `code` names the rule, `params` hold its figures.

    The English `message` stays beside it (the JSON API and the CLI show it); a page in another
    language words `code` + `params` from its catalogue (api/messages.py)."""

    field: str
    code: str
    message: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)


class PBError(Exception):
    """Base class: a refusal with a code, an HTTP-ish status and field errors.

    `problems` carries the same refusals as codes with values (see Problem); a refusal raised
    without them still has its message, which pages show as it is."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict | None = None, *, problems: list[Problem] | None = None,
                 reason: str | None = None, params: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.problems = list(problems or [])
        self.reason = reason              # a code for the whole refusal (e.g. "voting_not_open")
        self.params = dict(params or {})  # its figures

    def to_dict(self) -> dict:
        return {"code": self.code, "status": self.status, "message": self.message, "errors": self.errors}


class ValidationFailed(PBError):
    """Input breaks a rule. `errors` maps field name -> list of messages."""

    status = 422
    code = "validation_failed"

    @classmethod
    def field(cls, field: str, message: str, code: str | None = None, **params: Any) -> "ValidationFailed":
        problems = [Problem(field, code, message, params)] if code else None
        return cls(message, {field: [message]}, problems=problems, reason=code, params=params)


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
