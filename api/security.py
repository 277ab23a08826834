"""What every response and form gets: a secret key, signed session cookies, CSRF, security headers.

- SECRET_KEY signs the session cookie and the CSRF tokens. Taken from the app config or
  PB_SECRET_KEY; otherwise made once and kept in `instance/secret_key` (created atomically, so
  gunicorn's workers, started together, all read the same key). That default suits the embedded
  SQLite service on one host. On PostgreSQL (production: several hosts, where each would make a
  key of its own and sign cookies the others refuse) the service does not start without a
  configured key, unless PB_DEV=1 says it is a developer's machine (or the app is a test's).
- CSRF (Flask-WTF): every state-changing page form carries a token. The JSON API is exempt when
  the caller authenticates with a bearer header (a browser never sends one cross-site) or sends
  no credentials at all; an API call that relies on the session cookie must carry the token in
  an `X-CSRFToken` header, like a page form.
- Headers: a Content-Security-Policy that allows only the app's own scripts, styles and images
  (no inline script: the pages' small JS lives in static/), no framing, no MIME sniffing, no
  referrer beyond the origin.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

from api.context import bearer_token, cookie_has_credentials

csrf = CSRFProtect()
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")


def secret_key(instance: Path) -> str:
    env = os.environ.get("PB_SECRET_KEY")
    if env:
        return env
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def code_seal_key() -> bytes:
    """The key that seals printable access codes (pb_engine.code_seal), derived from SECRET_KEY."""
    from flask import current_app

    from pb_engine.code_seal import derive_key

    return derive_key(current_app.config["SECRET_KEY"])


class MissingSecretKey(RuntimeError):
    pass


def _dev_mode(app: Flask) -> bool:
    return os.environ.get("PB_DEV", "") == "1" or bool(app.config.get("PB_DEV")) or bool(app.config.get("TESTING"))


def require_production_key(app: Flask) -> None:
    """Production (a PostgreSQL database) needs PB_SECRET_KEY; a key made on one host is no key for a site."""
    url = str(app.config.get("DATABASE_URL") or "")
    if app.config.get("SECRET_KEY") or os.environ.get("PB_SECRET_KEY") or _dev_mode(app):
        return
    if url.startswith(("postgresql", "postgres:")):
        raise MissingSecretKey(
            "PB_SECRET_KEY is not set, and the database is PostgreSQL (production): refusing to start with a key "
            "made on this host alone. Set PB_SECRET_KEY to the same long random value on every host (e.g. "
            "python -c 'import secrets; print(secrets.token_hex(32))'), or PB_DEV=1 on a developer's machine.")


def check_csrf():
    """The CSRF check of unsafe requests (a `before_request` hook). It reads a page form's body, so hooks
    that must see who asks before any body is read go before it (api/console's `_who_asks`)."""
    if request.method not in UNSAFE:
        return None
    if request.path.startswith("/api/"):
        if bearer_token() is not None or not cookie_has_credentials():
            return None
    csrf.protect()
    return None


def init_app(app: Flask) -> None:
    require_production_key(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))
    # Flask has defaults for these (a cookie named "session", no SameSite): ours are set outright.
    app.config.update(
        SESSION_COOKIE_NAME="pb_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind HTTPS (production) set PB_COOKIE_SECURE=1 so the cookie never travels in clear.
        SESSION_COOKIE_SECURE=os.environ.get("PB_COOKIE_SECURE", "") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        WTF_CSRF_CHECK_DEFAULT=False,   # checked in _csrf below, where it applies
        WTF_CSRF_TIME_LIMIT=None,       # a token lives as long as the session
    )
    csrf.init_app(app)
    app.before_request(check_csrf)

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Content-Security-Policy", CSP)  # /api/docs too: its page has no inline script (api_docs)
        if request.path.startswith("/api/") or response.mimetype == "text/html":
            h.setdefault("Cache-Control", "no-store" if cookie_has_credentials() else "no-cache")
        return response
