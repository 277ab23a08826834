"""Console test helpers: the staff password the fixtures set and signing in through the form."""

from __future__ import annotations

PASSWORD = "a long staff password"


def sign_in(site, city: str, name: str, password: str = PASSWORD, follow: bool = True):
    return site.submit(f"/console/{city}/signin", {"username": name, "password": password}, follow=follow)
