"""The ballots digest: published results and .pb exports carry it, `pb-engine verify` recomputes it and the
outcome from the export, and a stored ballot changed after publication shows in verify and on the results."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlmodel import select

from apihelp import populated_round
from pb_engine.cli import main
from pb_engine.store.tables import Ballot, District


def _verify(*args):
    return CliRunner().invoke(main, ["verify", *map(str, args)])


def test_verify_recomputes_digest_and_outcome_and_a_changed_ballot_shows(app, api, cities, tmp_path):
    world = populated_round(api, cities, voters=3)
    base = world["base"]
    assert api.post(f"{base}/outcomes/{world['outcome']['id']}/publish", token=cities["alpha_admin"]).status_code == 200
    results = api.get(f"{base}/results").get_json()
    assert results["ballots_check"]["status"] == "match"
    assert results["ballots_check"]["current"] == results["input_hash"]
    assert 'id="ballots-match"' in api.client.get("/alpha/2026/results").get_data(as_text=True)
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    files = []
    for district in ("north", "south"):
        text = api.get(f"{base}/export.pb?district={district}").get_data(as_text=True)
        assert f"ballots_digest;{results['districts'][len(files)]['ballots_digest']}" in text
        files.append(tmp_path / f"{district}.pb")
        files[-1].write_text(text, encoding="utf-8")

    r = _verify(*files, "--outcome", tmp_path / "results.json")
    assert r.exit_code == 0 and "MISMATCH" not in r.output, r.output
    assert r.output.count("ok  ") == 2 * 4 + 1  # per file: file digest, published digest, outcome digest, funded

    # someone with database access changes one stored ballot of north after publication
    db = app.extensions["pb_db"]
    with db.session() as s:
        north = s.exec(select(District).where(District.slug == "north")).one()
        ballot = s.exec(select(Ballot).where(Ballot.district_id == north.id).order_by(Ballot.id)).first()
        other = next(p for p in world["ids"]["north"] if p not in ballot.content["projects"])
        ballot.content = {"projects": [other]}
        s.add(ballot)

    results = api.get(f"{base}/results").get_json()
    check = results["ballots_check"]
    assert check["status"] == "mismatch" and check["current"] != results["input_hash"]
    assert [d["district"] for d in check["districts"] if not d["matches"]] == ["north"]
    page = api.client.get("/alpha/2026/results").get_data(as_text=True)
    assert 'id="ballots-mismatch"' in page and 'id="ballots-match"' not in page

    tampered = tmp_path / "north-now.pb"
    tampered.write_text(api.get(f"{base}/export.pb?district=north").get_data(as_text=True), encoding="utf-8")
    r = _verify(tampered, "--outcome", tmp_path / "results.json")
    assert r.exit_code == 1, r.output
    assert "MISMATCH  the exported ballots are the ballots the published results were counted from" in r.output
    assert "MISMATCH  digest equals the outcome's for north" in r.output

    # the file itself edited: its ballots no longer give the digest it carries
    text = files[0].read_text(encoding="utf-8")
    votes = text.index("VOTES")
    head, tail = text[:votes], text[votes:].splitlines()
    first_vote = tail[2].rsplit(";", 1)
    tail[2] = f"{first_vote[0]};{other}"
    files[0].write_text(head + "\n".join(tail) + "\n", encoding="utf-8")
    r = _verify(files[0])
    assert r.exit_code == 1 and "the file was changed" in r.output, r.output
