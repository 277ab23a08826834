def test_healthz_answers_with_database_kind(client, db_url):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")


def test_openapi_document_is_served(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    assert "/healthz" in resp.get_json()["paths"]


def test_unknown_route_gets_json_error(client):
    resp = client.get("/api/v1/nowhere")
    assert resp.status_code == 404
    body = resp.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
