"""The mails the service sends, worded in the visitor's language, and the app's mailer (pb_engine.mailer).

The mailer is made on first use from the app config or the environment: SMTP when PB_SMTP_HOST is set,
otherwise .eml files in `instance/outbox` (logged); a test app (TESTING) keeps them in memory,
`app.extensions["pb_mailer"].sent`. Links in mails start with PB_PUBLIC_URL when it is set (what the
public sees, e.g. https://pb.example.org), else with the address the request came to.
"""

from __future__ import annotations

import os

from flask import current_app, request, url_for

from pb_engine import mailer as mailer_mod
from pb_engine.residents import CONFIRM_HOURS, CONFIRMED, SignUp

SETTINGS = ("PB_SMTP_HOST", "PB_SMTP_PORT", "PB_SMTP_USER", "PB_SMTP_PASSWORD", "PB_SMTP_TLS", "PB_MAIL_FROM",
            "PB_MAIL_OUTBOX", "PB_PUBLIC_URL")


def mailer() -> mailer_mod.Mailer:
    app = current_app
    found = app.extensions.get("pb_mailer")
    if found is None:
        if app.config.get("TESTING") and not app.config.get("PB_SMTP_HOST"):
            found = mailer_mod.MemoryMailer()
        else:
            settings = {k: str(app.config.get(k) or os.environ.get(k) or "") for k in SETTINGS}
            found = mailer_mod.from_settings(settings, os.path.join(app.instance_path, "outbox"))
        app.extensions["pb_mailer"] = found
    return found


def _link(endpoint: str, **values) -> str:
    base = current_app.config.get("PB_PUBLIC_URL") or os.environ.get("PB_PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return request.host_url.rstrip("/") + url_for(endpoint, **values)


def send_sign_up(city, result: SignUp, next: str | None = None) -> None:
    """One mail for every sign-up: the link that finishes it (then on to `next`, a path of this site), or the
    note that the name is taken."""
    from api.i18n import _

    if result.kind == CONFIRMED:
        subject = _("Finish signing up in %(city)s", city=city.name)
        body = _("Someone, hopefully you, asked for the resident account \"%(username)s\" in %(city)s.\n\n"
                 "Open this link within %(hours)s hours to finish signing up:\n%(link)s\n\n"
                 "If it was not you, ignore this mail: without the link no account is made.",
                 username=result.username, city=city.name, hours=CONFIRM_HOURS,
                 link=_link("pages.signup_confirm", city=city.slug, token=result.token,
                            **({"next": next} if next else {})))
    else:
        subject = _("Your sign-up in %(city)s", city=city.name)
        body = _("Someone, hopefully you, asked for the resident account \"%(username)s\" in %(city)s, "
                 "but that user name is taken.\n\n"
                 "If the account is yours, sign in here:\n%(signin)s\n\nOtherwise sign up again with another user name:\n%(signup)s\n\n"
                 "If it was not you, ignore this mail: nothing was changed.",
                 username=result.username, city=city.name, signin=_link("pages.signin", city=city.slug),
                 signup=_link("pages.signup", city=city.slug))
    mailer().send(mailer_mod.Mail(to=result.email, subject=subject, body=body))
