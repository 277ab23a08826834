"""Ballots cast at once through the API land on their own voters when SQLite runs them in one batch.

A batch (store.group_commit) runs every waiting cast in the thread whose turn it is, so a cast must not read
its request there: voting.cast_online asks its own request for the voter's token before it queues, and a
cast that finds it needs the token for another round than it asked for is run again in its own thread. Here
twelve requests are held at the writer's turn so that they meet in one batch: first with no round id known
to the process (each cast needs its request again: the fallback), then with it known (one batch).
"""

from __future__ import annotations

import threading
import time

import pytest

from pb_engine import voting
from pb_engine.store import group_commit, lookup
from pb_engine.store.tables import Round
from pb_engine.store.writer_turn import writer_turn

from voting_world import NOW, build

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/testville/rounds/2026"
VOTERS = 12


def test_ballots_cast_at_once_each_land_on_their_own_voter(app, monkeypatch):
    import api.resources._scope as scope

    monkeypatch.setattr(scope, "now", lambda: NOW)
    monkeypatch.setattr(voting, "utcnow", lambda: NOW)
    db = app.extensions["pb_db"]
    w = build(db)
    with db.session() as s:
        codes = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", VOTERS, w.staff_id, now=NOW)
    client = app.test_client(use_cookies=False)
    tokens = []
    for code in codes:
        r = client.post(f"{BASE}/voter-sessions", json={"access_code": code})
        assert r.status_code == 201, r.get_json()
        tokens.append(r.get_json()["token"])
    # Each voter's own choice, different from every other's: a ballot stored under another voter shows.
    choices = [[[w.north[i % 5]], [w.north[(i + 1) % 5], w.north[(i + 3) % 5]]] for i in range(VOTERS)]
    sqlite = db.dialect == "sqlite"

    for phase in range(2):
        if phase == 0:
            lookup._ROUND_IDS.clear()  # no round id known to the process: the casts need their requests again
        answers: list = [None] * VOTERS
        before = group_commit.counts(db)

        def cast(i):
            c = app.test_client(use_cookies=False)
            answers[i] = c.put(f"{BASE}/districts/north/ballot", json={"projects": choices[i][phase]},
                               headers={"Authorization": f"Bearer {tokens[i]}"})

        threads = [threading.Thread(target=cast, args=(i,)) for i in range(VOTERS)]
        with writer_turn(db):
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            while sqlite and group_commit.counts(db)["waiting"] < VOTERS and time.monotonic() < deadline:
                time.sleep(0.005)
        for t in threads:
            t.join(20)
            assert not t.is_alive()
        assert all(a.status_code == 200 for a in answers), [a.get_json() for a in answers if a.status_code != 200]
        assert [a.get_json()["version"] for a in answers] == [phase + 1] * VOTERS
        if sqlite:
            after = group_commit.counts(db)
            assert after["casts"] - before["casts"] >= VOTERS  # the fallback runs again alone, unbatched
            if phase == 1:
                assert (after["batches"] - before["batches"], after["casts"] - before["casts"]) == (1, VOTERS)

    for i, token in enumerate(tokens):
        r = client.get(f"{BASE}/districts/north/ballot", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.get_json()
        own = r.get_json()["ballot"]
        assert own["content"]["projects"] == sorted(choices[i][1]) and own["version"] == 2, (i, own)
