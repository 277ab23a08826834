"""Limits against guessing and against bodies built to hurt: failed sign-ins, sign-ups, JSON shape.

Rate limits (flask-limiter, moving window, so a stated "per hour" holds for every hour-long span):

- code sign-in (`POST …/voter-sessions` and the `/<city>/<round>/vote` form share the counters):
  per client address and per round. Only a failed attempt counts, i.e. an answer 401: credentials
  that named nothing (a well-formed access code that is unknown, a forged token). So a polling
  station's kiosk signs in hundreds of voters from one address, and a typo that the code's check
  character catches (422, no database look-up, no guess at the code space) costs nothing.
- resident sign-in (`POST /residents/login`, `/<city>/signin`): failed attempts per account and
  per address.
- sign-up (`POST /residents`, `/<city>/signup`): every attempt per address, successful ones too
  (a limit on failures alone would not stop one address registering accounts by the dozen).

A limit reached answers 429 with Retry-After (JSON for the API, a page in the visitor's language
for pages) and is written once per lockout to the city's audit log (`auth.lockout`: which limit,
the address or account; never a code or a password). Limits are app config (`PB_LIMIT_*`, also read
from the environment); counters live in Redis when PB_REDIS_URL or REDIS_URL is set (shared by every
worker and host), in the process's memory otherwise (one process: `pb-engine serve --dev`, tests).

One Limiter per process, as flask-limiter is meant to be used: `init_app` gives it the app's
storage, so an app made later (a test's) starts with fresh counters.

Request limits: the body size (MAX_CONTENT_LENGTH, 413), and JSON bodies of the API parsed with a
depth limit and integers that fit 64 bits, so that nesting or a 5,000-digit number answers 400
naming the problem instead of a RecursionError or ValueError deep in a parser.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

DEFAULTS = {
    "PB_LIMIT_CODE_PER_ADDRESS": "30 per hour",    # failed code sign-ins from one address
    "PB_LIMIT_CODE_PER_ROUND": "1000 per hour",    # failed code sign-ins into one round, all addresses
    "PB_LIMIT_LOGIN_PER_ACCOUNT": "10 per hour",   # failed resident sign-ins into one account
    "PB_LIMIT_LOGIN_PER_ADDRESS": "50 per hour",   # failed resident sign-ins from one address
    "PB_LIMIT_SIGNUP_PER_ADDRESS": "10 per hour",  # sign-ups (any outcome) from one address
}
MAX_JSON_DEPTH = 32    # the deepest body the API takes is 4 levels
# No quantity in the API has more than 20 digits. Up to 100 a number reaches the schema, which names the
# field it is too large for (422); beyond that it is refused as a number before any conversion (Python
# refuses to convert integers of more than 4,300 digits, and the work grows with the square of the length).
MAX_NUMBER_CHARS = 100

# The scope names the counter (and the audit event names it): (kind, what the key is).
SCOPES = {
    "code-address": ("code sign-in", "address"),
    "code-round": ("code sign-in", "round"),
    "login-account": ("resident sign-in", "account"),
    "login-address": ("resident sign-in", "address"),
    "signup-address": ("sign-up", "address"),
}


def _address() -> str:
    return get_remote_address() or "unknown"


def _round_key() -> str:
    args = request.view_args or {}
    return f"{args.get('city', '')}/{args.get('round', '')}"


def _account_key() -> str:
    """city/username of a sign-in, from the JSON body or the form (usernames are at most 64 characters)."""
    username = None
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            username = body.get("username")
    else:
        username = request.form.get("username")
    username = (username.strip() if isinstance(username, str) else "")[:100]
    return f"{(request.view_args or {}).get('city', '')}/{username}"


def _limit(name: str):
    return lambda: current_app.config[name]


def _refused_credentials(response) -> bool:
    return response.status_code == 401


limiter = Limiter(key_func=_address, strategy="moving-window", key_prefix="pb",
                  on_breach=lambda limit: _lockout(limit))

code_per_address = limiter.shared_limit(_limit("PB_LIMIT_CODE_PER_ADDRESS"), scope="code-address", key_func=_address,
                                        methods=["POST"], deduct_when=_refused_credentials)
code_per_round = limiter.shared_limit(_limit("PB_LIMIT_CODE_PER_ROUND"), scope="code-round", key_func=_round_key,
                                      methods=["POST"], deduct_when=_refused_credentials)
login_per_account = limiter.shared_limit(_limit("PB_LIMIT_LOGIN_PER_ACCOUNT"), scope="login-account",
                                         key_func=_account_key, methods=["POST"], deduct_when=_refused_credentials)
login_per_address = limiter.shared_limit(_limit("PB_LIMIT_LOGIN_PER_ADDRESS"), scope="login-address",
                                         key_func=_address, methods=["POST"], deduct_when=_refused_credentials)
signup_per_address = limiter.shared_limit(_limit("PB_LIMIT_SIGNUP_PER_ADDRESS"), scope="signup-address",
                                          key_func=_address, methods=["POST"])


def code_sign_in(view):
    """Failed access-code sign-ins, per address and per round."""
    return code_per_address(code_per_round(view))


def resident_sign_in(view):
    """Failed resident sign-ins, per account and per address."""
    return login_per_account(login_per_address(view))


def sign_up(view):
    """Sign-ups per address."""
    return signup_per_address(view)


# --- a lockout: 429 with Retry-After, written once to the audit log -----------------------------

def _scope_of(limit) -> str:
    # request_args: [key_prefix, key, scope] (the prefix is always set here)
    return str(limit.request_args[-1])


def _lockout(limit) -> None:
    """Write the lockout once: the first breach in a window marks it in the limiter's own storage (shared by
    workers when it is Redis), later breaches of the same lockout find the mark."""
    scope = _scope_of(limit)
    key = str(limit.request_args[-2])
    ttl = max(1, int(limit.reset_at - time.time()))
    try:
        first = limiter.storage.incr(f"pb/lockout/{scope}/{key}", ttl) == 1
    except Exception:  # noqa: BLE001 - storage trouble must not turn a 429 into a 500
        current_app.logger.exception("rate-limit storage failed while marking a lockout")
        first = True
    if first:
        _audit_lockout(scope, key, limit)


def _audit_lockout(scope: str, key: str, limit) -> None:
    from api.context import database
    from pb_engine import audit
    from pb_engine.errors import NotFound
    from pb_engine.store.lookup import city_by_slug, round_by_slug

    kind, what = SCOPES.get(scope, (scope, "key"))
    args = request.view_args or {}
    until = datetime.fromtimestamp(limit.reset_at, timezone.utc).isoformat(timespec="seconds")
    after = {"limit": kind, "per": what, "allowed": str(limit.limit), "until": until}
    if what == "address":
        after["address"] = key
    elif what == "account":
        after["username"] = key.split("/", 1)[1] if "/" in key else key
    try:
        with database().session() as s:
            city = city_by_slug(s, args.get("city", ""))
            rnd = round_by_slug(s, city, args["round"]) if args.get("round") else None
            audit.record(s, actor="rate-limit", action="auth.lockout", city_id=city.id,
                         round_id=rnd.id if rnd else None, target=f"{kind} per {what}", after=after)
    except NotFound:
        pass  # no such city or round: nothing of a city to log it under (the 429 stands)
    except Exception:  # noqa: BLE001 - the lockout holds even when the log cannot be written
        current_app.logger.exception("could not write the lockout to the audit log")


def _retry_after() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def _too_many(err: RateLimitExceeded):
    from api.errors import error_page, error_response, wants_page
    from api.i18n import ngettext

    wait = _retry_after()
    minutes = max(1, math.ceil(wait / 60))
    if wants_page():
        body, status = error_page(429, ngettext("Too many attempts. For your safety, please wait %(num)s minute "
                                                "and try again.", "Too many attempts. For your safety, please wait "
                                                "%(num)s minutes and try again.", minutes))
        from flask import make_response

        resp = make_response(body, status)
    else:
        resp = error_response(429, "too_many_attempts",
                              f"too many failed attempts ({err.limit.limit}); try again in {wait} seconds")
    resp.headers["Retry-After"] = str(wait)
    return resp


# --- JSON with limits ----------------------------------------------------------------------------

class JSONLimitError(ValueError):
    """A JSON body that is well-formed but beyond what the API takes; the message names the problem."""


def _number_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONLimitError(f"a number in the body has {len(text)} characters; a number has at most "
                             f"{MAX_NUMBER_CHARS}")


def _parse_int(text: str) -> int:
    _number_length(text)
    return int(text)


def _parse_float(text: str) -> float:
    _number_length(text)
    return float(text)


def _parse_constant(name: str):
    raise JSONLimitError(f"{name} is not a JSON value")


def _depth_ok(value) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise JSONLimitError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads_limited(text):
    """json.loads with the API's limits: JSONLimitError for depth and numbers, JSONDecodeError as usual."""
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise JSONLimitError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    _depth_ok(value)
    return value


class LimitedJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        if kwargs:
            return super().loads(s, **kwargs)
        return loads_limited(s)


def _check_json_body():
    """API JSON bodies are parsed once with the limits before the view's own (webargs) parsing, which then
    meets only bodies that plain json.loads reads safely. Malformed JSON is left to webargs' own message."""
    if not request.path.startswith("/api/") or not request.is_json or not request.content_length:
        return None
    data = request.get_data(cache=True)
    if (len(data) <= MAX_NUMBER_CHARS and data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH
            and b"NaN" not in data and b"Infinity" not in data):
        # Too short to hold a number over the limit, too few brackets to nest beyond it, no NaN or Infinity:
        # nothing to refuse (a ballot's body is such; parsing it twice was 4 % of a ballot's CPU).
        return None
    try:
        loads_limited(data)
    except JSONLimitError as err:
        refused = BadRequest(str(err))
        refused.data = {"messages": {"json": [str(err)]}}  # read by api/errors.py like webargs' own
        raise refused from None
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def init_app(app: Flask) -> None:
    # Behind a reverse proxy every request comes from the proxy's address, which would put every client in one
    # counter: PB_TRUSTED_PROXIES=N (the number of proxies in front) takes the client's address from
    # X-Forwarded-For as the N-th proxy saw it. Never set it without a proxy: clients could name any address.
    proxies = int(os.environ.get("PB_TRUSTED_PROXIES", "0") or 0)
    if proxies and not isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    for name, default in DEFAULTS.items():
        app.config.setdefault(name, os.environ.get(name) or default)
    redis_url = os.environ.get("PB_REDIS_URL") or os.environ.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)  # set outright: the one Limiter keeps the last app's choice
    limiter.enabled = app.config["RATELIMIT_ENABLED"]
    limiter.init_app(app)

    provider = LimitedJSONProvider(app)
    provider.sort_keys = app.json.sort_keys
    app.json = provider
    app.before_request(_check_json_body)
    app.register_error_handler(RateLimitExceeded, _too_many)
