"""Export: a district's ballots as an anonymous .pb file that reproduces the outcome."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlmodel import select

from pb_engine import pabulib, voting
from pb_engine.allocation import allocate
from pb_engine.export import export_district
from pb_engine.store.tables import Ballot, OutcomeRecord, Round

from voting_world import NOW, build

BALLOTS = {
    "approval": {"kind": "approval", "max_projects": 3},
    "knapsack": {"kind": "knapsack"},
    "cumulative": {"kind": "cumulative", "max_points": 6, "max_points_per_project": 4},
    "ranked": {"kind": "ranked", "max_rank": 3},
}
COSTS = {0: 300_000_00, 1: 250_000_00, 2: 200_000_00, 3: 400_000_00, 4: 100_000_00}


def _content(kind, rng, ids):
    if kind == "approval":
        return {"projects": rng.sample(ids, rng.randint(1, 3))}
    if kind == "knapsack":
        chosen, total = [], 0
        for i in rng.sample(range(len(ids)), len(ids)):
            if total + COSTS[i] <= 1_000_000_00 and rng.random() < 0.6:
                chosen.append(ids[i])
                total += COSTS[i]
        return {"projects": chosen or [ids[4]]}
    if kind == "cumulative":
        pts, left = {}, 6
        for pid in rng.sample(ids, rng.randint(1, 3)):
            n = rng.randint(1, min(4, left)) if left else 0
            if n:
                pts[str(pid)] = n
                left -= n
        return {"points": pts}
    return {"ranking": rng.sample(ids, rng.randint(1, 3))}


def _vote(db, kind, n_codes=12):
    w = build(db, ballot=BALLOTS[kind], rule={"id": "greedy"})
    rng = random.Random(kind)
    secrets = []
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        codes = voting.generate_access_codes(s, rnd, "north", n_codes, w.staff_id, now=NOW)
        tokens = [voting.open_voter_session(s, rnd, access_code=c, now=NOW) for c in codes]
        tokens.append(voting.open_voter_session(s, rnd, resident=w.resident_id, now=NOW))
        secrets += codes + [c.replace("-", "") for c in codes] + ["Jan Kowalski", f"resident:{w.resident_id}"]
    with db.session() as s:
        from pb_engine.store.tables import City
        voters = [voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), t, NOW) for t in tokens]
    receipts = []
    for v in voters:
        for _ in range(rng.choice([1, 1, 2])):  # some change their ballot: only the last one counts
            receipts.append(voting.cast_ballot(db, w.round_id, "north", v, _content(kind, rng, w.north), now=NOW).receipt)
    return w, secrets, receipts


@pytest.mark.parametrize("kind", sorted(BALLOTS))
def test_export_is_anonymous_and_reproduces_the_outcome(db, kind):
    w, secrets, receipts = _vote(db, kind)
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        text = export_district(s, rnd, "north")
        inst, prof = voting.district_election(s, rnd, "north")
        keys = [b.voter_key for b in s.exec(select(Ballot))]
        secret = rnd.voter_secret
    for needle in secrets + keys + receipts + [secret, "Kowalski", "resident"]:
        assert needle not in text, needle
    parsed = pabulib.parse(text)
    assert parsed.meta["budget"] == "1000000" and parsed.meta["vote_type"] == prof.vote_type.value
    assert parsed.meta["num_votes"] == str(len(prof)) == str(len(parsed.profile))
    assert parsed.voter_ids == tuple(str(i) for i in range(1, len(prof) + 1))
    assert Counter(parsed.profile.ballots) == Counter(prof.ballots)
    assert {p.id: p.cost * 100 for p in parsed.instance.projects} == {p.id: p.cost for p in inst.projects}
    for rule in ("greedy", "phragmen", "mes"):
        from_db = allocate(inst, prof, rule)
        from_file = allocate(parsed.instance, parsed.profile, rule)
        assert set(from_file.selected) == set(from_db.selected), rule
        assert from_db.selected  # a meaningful comparison: something was funded


def test_export_meta_limits_and_selected(db):
    w, _, _ = _vote(db, "knapsack", n_codes=4)
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        rnd.ballot = {"kind": "knapsack", "min_spend_share": 0.7, "max_projects": 4}
        s.add(rnd)
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        pb = pabulib.parse(export_district(s, rnd, "north"))
        assert pb.published("selected") is None  # no outcome yet
        meta = pb.meta
        assert (meta["max_sum_cost"], meta["min_sum_cost"], meta["max_length"]) == ("1000000", "700000", "4")
        assert (meta["rule"], meta["currency"], meta["date_begin"], meta["date_end"]) == (
            "greedy", "PLN", "01.04.2026", "30.04.2026")
        s.add(OutcomeRecord(round_id=rnd.id, rule={"id": "greedy"}, status="published",
                            result={"districts": [{"district": "north", "selected": [w.north[1], w.north[4]]}]}))
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        pb = pabulib.parse(export_district(s, rnd, "north"))
    assert pb.published("selected") == {str(p): ("1" if p in (w.north[1], w.north[4]) else "0") for p in w.north}
    votes = pb.published("votes")
    assert sum(int(v) for v in votes.values()) == sum(len(b.projects) for b in pb.profile.ballots)


def test_round_csv_shows_votes_once_voting_has_ended(db):
    import csv

    from pb_engine import outcomes
    from pb_engine.store.tables import City

    from voting_world import AFTER

    w = build(db)
    with db.session() as s:
        code = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", 1, w.staff_id, now=NOW)[0]
        token = voting.open_voter_session(s, s.get(Round, w.round_id), access_code=code, now=NOW)
    with db.session() as s:
        voter = voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, NOW)
    voting.cast_ballot(db, w.round_id, "north", voter, {"projects": [w.north[0]]}, now=NOW)

    def votes(now):
        with db.session() as s:
            text = outcomes.round_csv(s, s.get(City, w.city_id), s.get(Round, w.round_id), now)
        return {int(r["id"]): r["votes"] for r in csv.DictReader(text.splitlines())}

    assert set(votes(NOW).values()) == {""}  # no count is shown while voting runs
    after = votes(AFTER)
    assert after[w.north[0]] == "1"
    # a project on the ballot that nobody chose got 0 votes; a proposal never on the ballot has no count
    assert [after[p] for p in w.north[1:] + w.south] == ["0"] * 6
    assert after[w.withdrawn_id] == ""
