"""Paper ballots in the console by double entry: the code first, then the ballot form; the first entry
waits, a matching second counts, a differing one is a mismatch; refusals change nothing; the form
never shows the first entry; open entries listed and discarded; roles and cities; zh-TW."""

from __future__ import annotations

import pytest
from consolehelp import sign_in

from apihelp import populated_round

pytestmark = pytest.mark.db

C = "/console/alpha/rounds/2026"
R = "/api/v1/cities/alpha/rounds/2026"


@pytest.fixture
def world(api, cities):
    return populated_round(api, cities, voters=2, run_outcome=False)  # tally: paper ballots are taken


def _tables(app):
    from sqlalchemy import select as sa_select

    from pb_engine.store.tables import AuditEvent, Ballot, PaperEntry, VoterChannel
    with app.extensions["pb_db"].engine.connect() as conn:
        return [sorted(repr(tuple(r)) for r in conn.execute(sa_select(t.__table__)).all())
                for t in (Ballot, PaperEntry, VoterChannel, AuditEvent)]


def _paper_ballots(app):
    from sqlmodel import select

    from pb_engine.store.tables import Ballot
    with app.extensions["pb_db"].session() as s:
        return len(s.exec(select(Ballot.id).where(Ballot.channel == "paper")).all())


def _enter(site, district, code, projects):
    form = site.submit(f"{C}/paper", {"district": district, "access_code": code})
    assert form.status == 200, form.text()
    assert form.soup.select_one("form.paper-ballot"), form.text()
    assert not form.soup.select("form.paper-ballot input[checked]")  # never the first entry's content
    return site.client.post(f"{C}/paper/entry", data={"csrf_token": form.csrf(), "district": district,
                                                     "access_code": code, "project": [str(p) for p in projects]},
                            headers=site._headers(), follow_redirects=True)


def test_two_clerks_enter_a_ballot_and_it_counts(app, site, staff, world):
    from pagehelp import Page, Site
    code, pid = world["codes_left"]["north"][0], world["ids"]["north"]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = Page(_enter(site, "north", code, pid[:2]))
    assert "First entry saved" in page.text(".notice")
    assert [r.get_text(" ", strip=True) for r in page.soup.select("tr.entry td")][:2] == ["North", "waiting for the second entry"]
    assert _paper_ballots(app) == 0
    second = Site(app.test_client())
    sign_in(second, "alpha", staff["alpha_manager"][1])
    page = Page(_enter(second, "north", code, list(reversed(pid[:2]))))
    assert "the ballot counts" in page.text(".notice")
    assert _paper_ballots(app) == 1 and not page.soup.select("tr.entry")


def test_mismatch_then_again_then_discard(app, site, staff, world):
    from pagehelp import Page
    code, pid = world["codes_left"]["south"][0], world["ids"]["south"]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    Page(_enter(site, "south", code, pid[:1]))
    page = Page(_enter(site, "south", code, pid[1:2]))
    assert "differs from the first" in page.text(".alert")
    assert len(page.soup.select("tr.entry-mismatch")) == 2 and _paper_ballots(app) == 0
    entry = page.soup.select_one("tr.entry-mismatch th").get_text(strip=True)
    done = site.submit(f"{C}/paper", {}, action=f"{C}/paper/entries/{entry}/discard")
    assert "discarded" in done.text(".notice") and len(done.soup.select("tr.entry-mismatch")) == 1
    again = site.client.post(f"{C}/paper/entries/{entry}/discard", data={"csrf_token": done.csrf()})
    assert again.status_code == 409


def test_a_code_used_online_is_refused_and_nothing_changes(app, site, api, cities, staff):
    from apihelp import advance_to, make_round, register
    make_round(api, cities)
    advance_to(api, cities, "submission")
    pid = api.post(f"{R}/proposals", json={"title": "A", "district": "north", "estimated_cost": 10},
                   token=register(api)).get_json()["id"]
    advance_to(api, cities, "review")
    api.patch(f"{R}/proposals/{pid}", json={"reviewed_cost": 10, "feasible": True, "status": "on_ballot"},
              token=cities["alpha_admin"])
    advance_to(api, cities, "voting")
    code = api.post(f"{R}/access-codes", json={"district": "north", "count": 1}, token=cities["alpha_admin"]).get_json()["codes"][0]
    tok = api.post(f"{R}/voter-sessions", json={"access_code": code}).get_json()["token"]
    assert api.put(f"{R}/districts/north/ballot", json={"projects": [pid]}, token=tok).status_code == 200
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    before = _tables(app)
    page = site.submit(f"{C}/paper", {"district": "north", "access_code": code})
    assert page.status == 409 and "voted online" in page.text(".alert")
    assert not page.soup.select("form.paper-ballot")
    # the entry form posted directly (skipping the first step) is refused too
    r = site.client.post(f"{C}/paper/entry", data={"csrf_token": page.csrf(), "district": "north",
                                                  "access_code": code, "project": [str(pid)]})
    assert r.status_code == 409
    assert _tables(app) == before


def test_a_broken_ballot_rule_is_refused_beside_the_form(app, site, staff, world):
    from pagehelp import Page
    code, pid = world["codes_left"]["north"][0], world["ids"]["north"]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    before = _tables(app)
    form = site.submit(f"{C}/paper", {"district": "north", "access_code": code})
    r = site.client.post(f"{C}/paper/entry", data={"csrf_token": form.csrf(), "district": "north",
                                                  "access_code": code, "project": [str(p) for p in pid] +
                                                  [str(world["ids"]["south"][0])]})
    page = Page(r)
    assert r.status_code == 422 and page.soup.select_one("form.paper-ballot") and page.soup.select("[role=alert]")
    assert _tables(app) == before
    bad = site.submit(f"{C}/paper", {"district": "north", "access_code": "K7QM-4TXR-9PWX"})
    assert bad.status in (401, 422) and bad.field_error("access_code")
    other = site.submit(f"{C}/paper", {"district": "south", "access_code": code})
    assert other.status == 403 and "district" in other.text(".alert")
    assert _tables(app) == before


def test_roles_and_cities(app, site, staff, world):
    from pagehelp import Site
    code = world["codes_left"]["north"][0]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    _enter(site, "north", code, world["ids"]["north"][:1])
    entry = site.get(f"{C}/paper").soup.select_one("tr.entry th").get_text(strip=True)
    before = _tables(app)
    for who in ("alpha_viewer", "beta_clerk", "beta_manager"):
        other = Site(app.test_client())
        city = who.split("_")[0]
        sign_in(other, city, staff[who][1])
        csrf = other.get(f"/console/{city}").csrf()
        assert other.client.get(f"{C}/paper").status_code == 403, who
        for path, data in ((f"{C}/paper", {"district": "north", "access_code": code}),
                           (f"{C}/paper/entry", {"district": "north", "access_code": code, "project": "1"}),
                           (f"{C}/paper/entries/{entry}/discard", {})):
            assert other.client.post(path, data={"csrf_token": csrf, **data}).status_code == 403, (who, path)
    assert _tables(app) == before
    reviewer = Site(app.test_client())
    sign_in(reviewer, "alpha", staff["alpha_reviewer"][1])
    assert reviewer.get(f"{C}/paper").status == 200  # reviewers enter paper ballots (api/auth.py PAPER)


def test_in_traditional_chinese_nothing_is_missing(app, staff, world):
    from pagehelp import Page, Site
    from test_codes import _misses
    app.config["PB_I18N_STRICT"] = True
    site = Site(app.test_client(), lang="zh-TW")
    code, pid = world["codes_left"]["north"][0], world["ids"]["north"]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    Page(_enter(site, "north", code, pid[:1]))
    page = Page(_enter(site, "north", code, pid[1:2]))  # mismatch
    assert page.soup.html["lang"] == "zh-TW" and page.soup.select("tr.entry")
    site.submit(f"{C}/paper", {"district": "north", "access_code": "K7QM-4TXR-9PWX"})
    assert _misses(app) == []
