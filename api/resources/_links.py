"""OpenAPI links (docs only): which value of an answer feeds which later request.

A link says, for example, that the `token` of a new voter session is the bearer token of the ballot
PUT and GET, or that the `id` of a new proposal is the `proposal_id` of its page, edits, endorsements
and comments. Clients can read the chains from /api/openapi.json; schemathesis' stateful run
(scripts/fuzz_api.py --stateful) follows them, so that its calls use real ids and tokens instead of
random ones that only ever reach a 404 or a 401.

    @links(201, proposal=op("GET", PROPOSAL, proposal_id="$response.body#/id", **SAME_ROUND))

Targets are named by method and path (an `operationRef`: the API gives its operations no ids).
"""

from __future__ import annotations

from flask_smorest import Blueprint

ROUND = "/api/v1/cities/{city}/rounds/{round}"
PROPOSAL = ROUND + "/proposals/{proposal_id}"
BALLOT = ROUND + "/districts/{district}/ballot"
SAME_CITY = {"city": "$request.path.city"}
SAME_ROUND = {**SAME_CITY, "round": "$request.path.round"}


def bearer(expression: str) -> dict:
    """The link's Authorization header: `Bearer <value of expression>` (an embedded runtime expression)."""
    return {"header.Authorization": "Bearer {" + expression + "}"}


def op(method: str, path: str, *, body: dict | None = None, headers: dict | None = None, **parameters) -> dict:
    """A link to the operation `method path`; parameters map its parameter names to runtime expressions."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    link = {"operationRef": f"#/paths/{pointer}/{method.lower()}"}
    if parameters or headers:
        link["parameters"] = {**parameters, **(headers or {})}
    if body is not None:
        link["requestBody"] = body
    return link


def links(status: int, **named: dict):
    """Decorator: add the named links to the documented answer `status` of the decorated view."""
    return Blueprint.doc(responses={str(status): {"links": named}})
