"""Everything a staff member changes is in the audit log: who (staff id), what, when, before and after."""

from apihelp import make_round, populated_round

A = "/api/v1/cities/alpha"


def test_every_staff_change_is_logged(api, cities):
    admin, reviewer = cities["alpha_admin"], cities["alpha_reviewer"]
    state = populated_round(api, cities)  # round.create, round.advance, proposal.review, access codes, outcome.run
    base, pid = state["base"], state["ids"]["north"][0]
    api.patch(base, json={"title": "Renamed"}, token=admin)
    api.post(f"{base}/proposals/{pid}/responses", json={"body": "Thanks"}, token=reviewer)
    refused = api.post(f"{base}/proposals", json={"title": "Too late", "district": "south"}, token=reviewer)
    assert refused.status_code == 409  # voting has started: the ballot is frozen
    make_round(api, cities, slug="2027")
    api.post(f"{A}/rounds/2027/advance", token=admin)
    r = api.post(f"{A}/rounds/2027/proposals", json={"title": "From the paper form", "district": "south"}, token=reviewer)
    assert r.status_code == 201 and r.get_json()["entered_by_staff"] is True
    for status in ("pending", "counted"):  # double entry: the second matching entry counts
        r = api.post(f"{base}/paper-ballots", json={"district": "south", "access_code": state["codes_left"]["south"][0],
                                                    "projects": [state["ids"]["south"][0]]}, token=reviewer)
        assert r.status_code == 201 and r.get_json()["status"] == status, r.get_json()
    api.post(f"{base}/outcomes/{state['outcome']['id']}/publish", token=admin)
    api.post(f"{A}/staff", json={"name": "New", "role": "reviewer"}, token=admin)
    api.patch(f"{A}/residents/resi", json={"verified": True, "district": "north"}, token=reviewer)

    events = api.get(f"{A}/audit?per_page=500", token=admin).get_json()["events"]
    staff_events = [e for e in events if e["actor"].startswith("staff:")]
    actions = {e["action"] for e in staff_events}
    assert actions >= {"round.create", "round.advance", "round.update", "proposal.review", "proposal.respond",
                       "proposal.enter_on_behalf", "access_codes.generate", "paper_ballot.enter", "paper_entry.enter", "paper_entry.confirm", "outcome.run",
                       "outcome.publish", "staff.create", "resident.verify"}, actions
    for e in staff_events:
        assert e["at"] and (e["before"] is not None or e["after"] is not None), e
    update = next(e for e in staff_events if e["action"] == "round.update")
    assert update["before"] == {"title": "Round 2026"} and update["after"] == {"title": "Renamed"}
    review = next(e for e in staff_events if e["action"] == "proposal.review")
    assert review["before"]["status"] == "submitted" and review["after"]["status"] == "on_ballot"
    assert api.get(f"{A}/audit?action=outcome.publish", token=admin).get_json()["total"] == 1
