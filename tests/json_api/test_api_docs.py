"""/api/docs: Swagger UI served by the app itself from the swagger-ui-bundle package (no CDN, no internet
needed), with no inline script and the site's Content-Security-Policy; only the bundle's files are served."""

from __future__ import annotations

import re

from api.security import CSP  # the policy every page carries


def test_the_docs_page_loads_swagger_ui_from_the_app_only(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "/api/docs/assets/swagger-ui-bundle.js" in sources and "/api/docs/assets/swagger-ui.css" in sources
    assert re.search(r"<script>(?!</script>)", html) is None  # no inline script: every <script> has a src
    assert 'data-spec-url="/api/openapi.json"' in html
    assert r.headers["Content-Security-Policy"] == CSP and "'unsafe-inline'" not in CSP


def test_the_bundles_files_are_served_and_nothing_beside_them(client):
    for name, mimetype in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        r = client.get(f"/api/docs/assets/{name}")
        assert r.status_code == 200 and r.mimetype == mimetype and len(r.data) > 10_000
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/docs/assets/../__init__.py").status_code == 404
    assert client.get("/api/docs/assets/%2e%2e/__init__.py").status_code == 404
    assert client.get("/api/docs/assets/no-such-file.js").status_code == 404
    init = client.get("/static/swagger_init.js")
    assert init.status_code == 200 and b"SwaggerUIBundle" in init.data
