"""Browser: /api/docs shows the API in Swagger UI from the app's own files (no internet needed), under the
docs' Content-Security-Policy: every operation of the document is listed and the page logs no error (a
CSP refusal or a failed load fails check_page_errors)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_swagger_ui_lists_the_operations_from_local_files(page, server):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server.url, "data:")) else None)
    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/cities/{city}/rounds/{round}/voter-sessions")
           .first).to_be_visible()
    assert page.locator(".opblock").count() >= 60  # 63 operations in the document
    assert outside == []
