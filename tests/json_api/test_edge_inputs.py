"""Inputs found by hand or by fuzzing that once could reach the database or the date arithmetic: never a 500."""

from apihelp import populated_round


def test_edge_inputs_never_answer_500(api, cities, client):
    st = populated_round(api, cities, voters=2)
    b = st["base"]; h = {"Authorization": f"Bearer {cities['alpha_admin']}"}
    for method, path, kw in [
        ("POST", f"{b}/proposals", dict(data="{bad json", content_type="application/json")),
        ("POST", f"{b}/proposals", dict(data="[1,2]", content_type="application/json")),
        ("POST", f"{b}/proposals", dict(data="null", content_type="application/json")),
        ("PATCH", f"{b}", dict(data='{"districts": [{"slug": "north", "name": "N", "budget": 1e400}]}', content_type="application/json")),
        ("PATCH", f"{b}", dict(json={"phases": [{"name": "voting", "starts_at": "9999-12-31T23:59:59+14:00", "ends_at": "9999-12-31T23:59:59-12:00"}]})),
        ("PATCH", f"{b}", dict(json={"phases": [{"name": "voting", "starts_at": "0001-01-01", "ends_at": "0001-01-02"}]})),
        ("GET", f"{b}/proposals/{2**40}", {}),
        ("GET", f"{b}/proposals?page=100000000000000000000", {}),
        ("PUT", f"{b}/districts/north/ballot", dict(json={"points": {"99999999999": 1}})),
        ("POST", f"{b}/outcomes", dict(json={"rule": {"id": "greedy-threshold", "threshold": 1e300}})),
        ("POST", f"{b}/outcomes", dict(json={"rule": {"id": "max-welfare", "solver": "cbc"}})),
        ("POST", "/api/v1/cities/alpha/rounds", dict(json={"slug": "x", "title": "t", "budget": 1, "districts": [{"slug": "a", "name": "A", "budget": 1}], "phases": [{"name": "voting", "starts_at": "2027-01-01T00:00", "ends_at": "2027-01-02"}], "ballot": {"kind": "approval"}, "rule": {"id": "greedy"}, "city": "\u0000", "current_phase": 5})),
    ]:
        r = client.open(path, method=method, headers=h, **kw)
        assert r.status_code < 500, (method, path, kw)
        assert set(r.get_json()) >= {"code", "status", "message", "errors"} if r.status_code >= 400 else True
