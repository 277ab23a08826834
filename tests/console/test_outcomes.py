"""The console's outcomes: a manager counts the ballots with any rule (options from its descriptor), compares
the drafts side by side, publishes one after a confirmation; the result is frozen and shows its ballots
digest. Clerks, reviewers and viewers read only; another city's manager gets 403; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from consolehelp import sign_in

from apihelp import populated_round
from pb_engine.store.tables import AuditEvent, OutcomeRecord, Phase, Proposal

pytestmark = pytest.mark.db

PAGE = "/console/alpha/rounds/2026/outcomes"
API = "/api/v1/cities/alpha/rounds/2026"


def _rows(app, table):
    from sqlmodel import select

    with app.extensions["pb_db"].session() as s:
        return list(s.exec(select(table)).all())


def _ids(app):
    return sorted(o.id for o in _rows(app, OutcomeRecord))


@pytest.fixture
def counted(api, cities):
    return populated_round(api, cities, run_outcome=False)


def _run(site, rule, **options):
    data = {"rule": rule, **{f"opt-{k}": v for k, v in options.items()}}
    return site.submit(PAGE, data, action=f"{PAGE}/run")


def test_manager_runs_two_rules_compares_and_publishes(app, site, api, counted, staff):
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = site.get(PAGE)
    assert page.status == 200
    assert "Nothing is published yet." in page.text("main")
    forms = page.soup.select("details.rule-run form input[name=rule]")
    from pb_engine.allocation.registry import rule_ids

    assert sorted(f["value"] for f in forms) == rule_ids()  # every registered rule can be run
    # the options come from the descriptor: greedy-threshold has threshold and threshold_share
    assert page.soup.select_one('#f-greedy-threshold-threshold_share')

    page = _run(site, "greedy")
    assert page.status == 200 and "draft outcome" in page.text(".notice")
    page = _run(site, "mes", completion="greedy")
    assert page.status == 200
    first, second = _ids(app)
    # the redirect compares the new draft with the one before it
    table = page.soup.select_one("table.compare-summary")
    assert table is not None
    heads = page.texts("table.compare-summary thead th")
    assert heads[1].startswith(f"Outcome {first}") and heads[2].startswith(f"Outcome {second}")
    figures = {" ".join(tr.th.get_text(" ").split()): [td.get_text(" ", strip=True) for td in tr.select("td")]
               for tr in table.select("tbody tr")}
    assert set(figures) >= {"Funded projects", "Spend", "Share of the budget",
                            "Voters with at least one project they chose funded",
                            "Average share of a voter's choices funded", "Ballots digest"}
    assert all(v.endswith("%") or "(" in v for v in figures["Voters with at least one project they chose funded"])
    districts = page.texts("#comparison h3")
    assert [d.split(" budget")[0] for d in districts] == ["North", "South"]
    rows = page.soup.select("table.compare-projects tbody tr")
    assert len(rows) == 5  # every project of both districts, once
    for tr in rows:  # a row is marked "changes" exactly when the outcomes differ on it
        cells = [td.get_text(strip=True) for td in tr.select("td")][2:]
        assert ("changes" in tr.get("class", [])) == (len(set(cells)) > 1)

    # compare by GET with the checkboxes
    page = site.get(f"{PAGE}?compare={first}&compare={second}")
    assert page.soup.select("input[name=compare][checked]") and len(page.soup.select("input[name=compare][checked]")) == 2

    # the what-if (mes) draft cannot be published: no link, and the domain refuses it
    links = {a["href"] for a in page.soup.select("a.publish")}
    assert links == {f"{PAGE}/{first}/publish"}
    confirm = site.get(f"{PAGE}/{first}/publish")
    assert confirm.status == 200 and "freezes this result" in confirm.text("main")
    before_status = {p.id: p.status for p in _rows(app, Proposal)}
    done = site.submit(f"{PAGE}/{first}/publish", {})
    assert done.status == 200 and f"Outcome {first} is published" in done.text(".notice")
    record = next(o for o in _rows(app, OutcomeRecord) if o.id == first)
    assert record.status == "published"
    assert done.text(".published-outcome code.digest") == record.input_hash
    assert record.engine_version in done.text(".published-outcome")
    assert any(s == "funded" for s in {p.id: p.status for p in _rows(app, Proposal)}.values())
    assert before_status != {p.id: p.status for p in _rows(app, Proposal)}
    assert [e.action for e in _rows(app, AuditEvent) if e.action.startswith("outcome.")] == \
        ["outcome.run", "outcome.run", "outcome.publish"]

    # the public results show the digest and the engine version
    public = site.get("/alpha/2026/results")
    assert public.status == 200
    assert record.input_hash[:23] in public.text("main") and record.engine_version in public.text("main")

    # published is frozen: publishing it again is refused and changes nothing
    again = site.submit(f"{PAGE}/{first}/publish", {}, action=f"{PAGE}/{first}/publish")
    assert again.status == 409 and "never changed" in again.text(".alert")
    what_if = site.client.post(f"{PAGE}/{second}/publish", data={"csrf_token": again.csrf()})
    assert what_if.status_code == 409
    assert next(o for o in _rows(app, OutcomeRecord) if o.id == second).status == "draft"

    # a new count with the round's rule, published, supersedes the first (audited)
    _run(site, "greedy")
    third = _ids(app)[-1]
    site.submit(f"{PAGE}/{third}/publish", {})
    statuses = {o.id: o.status for o in _rows(app, OutcomeRecord)}
    assert statuses[first] == "superseded" and statuses[third] == "published"
    publish = [e for e in _rows(app, AuditEvent) if e.action == "outcome.publish"][-1]
    assert publish.after == {"published": third, "supersedes": first}


def test_invalid_options_are_refused_naming_the_field_and_change_nothing(app, site, counted, staff):
    sign_in(site, "alpha", staff["alpha_manager"][1])
    before = _rows(app, AuditEvent)
    page = _run(site, "greedy-threshold", threshold_share="2")
    assert page.status == 422
    assert "from 0 to 1" in page.field_error("opt-threshold_share") or \
        "from 0 to 1" in " ".join(page.texts("#run-greedy-threshold .field-error"))
    assert page.soup.select_one("#run-greedy-threshold").has_attr("open")
    page = _run(site, "greedy-threshold", threshold="many")
    assert page.status == 422 and "Enter a number" in " ".join(page.texts("#run-greedy-threshold .field-error"))
    page = _run(site, "mes", then_greedy="true")  # the engine's own check: then_greedy goes with add1
    assert page.status == 422 and page.texts("#run-mes .field-error")
    page = _run(site, "no-such-rule")
    assert page.status == 422
    assert _ids(app) == [] and len(_rows(app, AuditEvent)) == len(before)


def test_before_voting_ends_nothing_is_counted_or_published(app, site, api, cities, staff):
    state = populated_round(api, cities)  # a draft, counted in tally
    draft = state["outcome"]["id"]
    from sqlmodel import select

    with app.extensions["pb_db"].write_session() as s:  # the city moves the end of voting into the future
        phase = s.exec(select(Phase).where(Phase.name == "voting")).one()
        from pb_engine.store.types import utcnow

        phase.ends_at = utcnow() + timedelta(days=2)
        s.add(phase)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = site.get(PAGE)
    assert "Voting has not ended" in page.text(".alert")
    assert not page.soup.select("a.publish")
    page = _run(site, "greedy")
    assert page.status == 409 and "Voting has not ended" in page.text("[role=alert]")
    refused = site.submit(f"{PAGE}/{draft}/publish", {})
    assert refused.status == 409 and "Voting has not ended" in refused.text("[role=alert]")
    assert [o.status for o in _rows(app, OutcomeRecord)] == ["draft"]
    r = api.post(f"{API}/outcomes/{draft}/publish", token=cities["alpha_admin"])
    assert r.status_code == 409 and "voting has not ended" in r.get_json()["message"]


@pytest.mark.parametrize("role", ["clerk", "reviewer", "viewer"])
def test_other_roles_read_but_cannot_count_or_publish(app, site, api, cities, staff, role):
    state = populated_round(api, cities)
    draft = state["outcome"]["id"]
    sign_in(site, "alpha", staff[f"alpha_{role}"][1])
    page = site.get(PAGE)
    assert page.status == 200 and page.soup.select_one(f"#outcome-{draft}")
    assert not page.soup.select("a.publish") and not page.soup.select("details.rule-run")
    assert site.get(f"{PAGE}?compare={draft}").soup.select_one("table.compare-summary")
    csrf = page.csrf()
    assert site.client.get(f"{PAGE}/{draft}/publish").status_code == 403
    assert site.client.post(f"{PAGE}/{draft}/publish", data={"csrf_token": csrf}).status_code == 403
    assert site.client.post(f"{PAGE}/run", data={"csrf_token": csrf, "rule": "greedy"}).status_code == 403
    token = staff[f"alpha_{role}"][2]
    assert api.post(f"{API}/outcomes/{draft}/publish", token=token).status_code == 403
    assert api.post(f"{API}/outcomes", json={}, token=token).status_code == 403
    assert [o.status for o in _rows(app, OutcomeRecord)] == ["draft"] and len(_ids(app)) == 1


def test_another_citys_manager_gets_403(app, site, api, cities, staff):
    state = populated_round(api, cities)
    draft = state["outcome"]["id"]
    sign_in(site, "beta", staff["beta_manager"][1])
    assert site.get(PAGE).status == 403
    csrf = site.get("/console/beta").csrf()
    assert site.client.post(f"{PAGE}/{draft}/publish", data={"csrf_token": csrf}).status_code == 403
    assert site.client.post(f"{PAGE}/run", data={"csrf_token": csrf, "rule": "greedy"}).status_code == 403
    token = staff["beta_manager"][2]
    assert api.post(f"{API}/outcomes/{draft}/publish", token=token).status_code == 403
    assert api.get(f"{API}/outcomes/compare?ids={draft}", token=token).status_code == 404  # a draft is private
    assert [o.status for o in _rows(app, OutcomeRecord)] == ["draft"]


def test_outcome_pages_in_zh_tw_meet_no_catalogue_miss(app, api, cities, staff):
    from pagehelp import Site

    app.config["PB_I18N_STRICT"] = True
    populated_round(api, cities)
    site = Site(app.test_client(), lang="zh-TW")
    sign_in(site, "alpha", staff["alpha_manager"][1])
    _run(site, "mes", completion="add1")
    page = _run(site, "greedy-threshold", threshold="x")  # a refusal, worded
    assert page.status == 422
    ids = _ids(app)
    page = site.get(f"{PAGE}?compare={ids[0]}&compare={ids[1]}")
    assert page.status == 200 and page.soup.select_one("table.compare-projects")
    assert site.get(f"{PAGE}/{ids[0]}/publish").status == 200
    site.submit(f"{PAGE}/{ids[0]}/publish", {})
    assert site.submit(f"{PAGE}/{ids[0]}/publish", {}).status == 409  # frozen, worded
    assert site.get(PAGE).status == 200
    from api.console import NAV, ROUND_NAV

    with app.test_request_context("/"):  # other slices' navigation entries are theirs to translate
        others = {item.label() for item in (*NAV, *ROUND_NAV) if item.endpoint not in ("console.outcomes",)}
    misses = sorted(m for m in app.extensions.get("pb_i18n_misses", set()) if "/outcomes" in m[2] and m[1] not in others)
    assert misses == [], misses
