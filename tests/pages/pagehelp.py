"""Reading pages as a person does: Page (text by CSS selector, the message beside a field, a form's
values and CSRF token) and Site (a browser-like client that keeps cookies and sends the form's token)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup


class Page:
    def __init__(self, resp):
        self.resp = resp
        self.status = resp.status_code
        self.html = resp.get_data(as_text=True)
        self.soup = BeautifulSoup(self.html, "html.parser")

    def text(self, selector: str = "main") -> str:
        el = self.soup.select_one(selector)
        return " ".join(el.get_text(" ").split()) if el else ""

    def texts(self, selector: str) -> list[str]:
        return [" ".join(el.get_text(" ").split()) for el in self.soup.select(selector)]

    def field_error(self, name: str) -> str:
        """The message shown beside the input named `name`."""
        inp = self.soup.select_one(f'[name="{name}"]')
        assert inp is not None, f"no field {name}"
        wrapper = inp.find_parent(class_=re.compile(r"\b(field|choice)\b"))
        return " ".join(e.get_text(" ") for e in wrapper.select(".field-error"))

    def value(self, name: str) -> str:
        inp = self.soup.select_one(f'[name="{name}"]')
        if inp.name == "textarea":
            return inp.get_text()
        if inp.name == "select":
            opt = inp.select_one("option[selected]")
            return opt["value"] if opt else ""
        return inp.get("value", "")

    def csrf(self) -> str:
        el = self.soup.select_one('input[name="csrf_token"]')
        assert el is not None, "the page has no form with a CSRF token"
        return el["value"]


class Site:
    """A browser: keeps cookies, sends the form's CSRF token, follows redirects like a person."""

    def __init__(self, client, lang: str = "en"):
        self.client = client
        self.lang = lang

    def _headers(self):
        return {"Accept-Language": self.lang}

    def get(self, path: str) -> Page:
        return Page(self.client.get(path, headers=self._headers(), follow_redirects=True))

    def submit(self, page_path: str, data: dict, action: str | None = None, follow: bool = True) -> Page:
        """Open `page_path`, fill in `data` and send the form to `action` (default: the page itself)."""
        form_page = self.get(page_path)
        body = {"csrf_token": form_page.csrf(), **data}
        return Page(self.client.post(action or page_path, data=body, headers=self._headers(),
                                     follow_redirects=follow))


def sign_up(site: "Site", username: str, password: str = "long enough pw", city: str = "alpha",
            display_name: str = "", next: str | None = None, follow: bool = True) -> "Page":
    """Sign up on the page and open the e-mailed link as a person does; the page after the link's button."""
    from apihelp import sign_up_path

    email = f"{username}@example.org"
    path = f"/{city}/signup" + (f"?next={next}" if next else "")
    page = site.submit(path, {"username": username, "display_name": display_name, "email": email,
                              "password": password, "password2": password})
    assert page.status == 200, page.text("main")
    link = sign_up_path(site.client.application, email)
    assert link, f"no sign-up link mailed to {email}"
    return site.submit(link, {}, follow=follow)
