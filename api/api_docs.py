"""The interactive API viewer at /api/docs: flask-smorest's Swagger UI page with its scripts and styles
served by the app from the swagger-ui-bundle package (the service runs with no internet, so no CDN).

The page is our template (api/templates/swagger_ui.html, which takes precedence over flask-smorest's):
no inline script (api/static/swagger_init.js starts it), so the docs carry the site's own
Content-Security-Policy like every page (tests/browser/test_api_docs_browser.py: no CSP refusal)."""

from __future__ import annotations

from flask import Blueprint, Flask, send_from_directory

ASSETS = "/api/docs/assets/"

bp = Blueprint("api_docs", __name__)


@bp.route(ASSETS + "<path:asset>")
def asset(asset: str):
    from swagger_ui_bundle import swagger_ui_path

    # send_from_directory refuses paths that leave the folder (404), so only the bundle's files are served
    return send_from_directory(str(swagger_ui_path), asset, max_age=86400)


def configure(app: Flask) -> None:
    """Before the Api is made: flask-smorest registers its Swagger UI route from these settings."""
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", ASSETS)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
