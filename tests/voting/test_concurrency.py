"""Many threads casting and changing ballots of overlapping voters, on SQLite and PostgreSQL.

Afterwards: exactly one ballot per voter and district, equal to the last one
acknowledged; every other acknowledged ballot is in the history; versions run
1..n without gaps (so nothing acknowledged was lost or doubled).

Two parts: (1) THREADS x OPS random operations on overlapping voters, each
voter's casts ordered by a per-voter lock held from call to acknowledgement, so
"last acknowledged" is well-defined; different voters run concurrently.
(2) No lock at all: every thread hits the same voter at once (a barrier), for
fresh voters (first-insert race) and for voters that already have a ballot.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

from sqlmodel import select

from pb_engine import voting
from pb_engine.errors import ValidationFailed
from pb_engine.store.tables import AccessCode, Ballot, BallotHistory, City, Resident, Round

from voting_world import NOW, build

THREADS = 8
OPS = 50
RACE_ROUNDS = 4


def _tokens(db, w, residents: int, codes: int) -> list[str]:
    """Voter session tokens: `residents` verified residents first, then `codes` access codes of north."""
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        ids = []
        for i in range(residents):
            r = Resident(city_id=w.city_id, username=f"v{i}", display_name=f"Voter {i}", verified=True)
            s.add(r)
            s.flush()
            ids.append(r.id)
        tokens = [voting.open_voter_session(s, rnd, resident=i, now=NOW) for i in ids]
        for code in voting.generate_access_codes(s, rnd, "north", codes, w.staff_id, now=NOW) if codes else ():
            tokens.append(voting.open_voter_session(s, rnd, access_code=code, now=NOW))
    return tokens


def _voters(db, w, residents: int, codes: int) -> list[voting.Voter]:
    tokens = _tokens(db, w, residents, codes)
    with db.session() as s:
        rnd, city = s.get(Round, w.round_id), s.get(City, w.city_id)
        return [voting.voter_from_token(s, city, rnd, t, NOW) for t in tokens]


def _districts(v: voting.Voter) -> list[str]:
    return ["north"] if v.method == "access_code" else ["north", "south"]


def _content(rng: random.Random, w, district: str) -> dict:
    pool = w.north if district == "north" else w.south
    return {"projects": sorted(rng.sample(pool, rng.randint(1, min(3, len(pool)))))}


def _check(db, w, acks: dict) -> tuple[int, int]:
    """acks: (voter key, district slug) -> receipts in acknowledgement order (or an unordered set, see race)."""
    with db.session() as s:
        slug = {w.north_id: "north", w.south_id: "south"}
        rows = s.exec(select(Ballot).where(Ballot.round_id == w.round_id)).all()
        hist = s.exec(select(BallotHistory).where(BallotHistory.round_id == w.round_id)).all()
        codes = s.exec(select(AccessCode)).all()
    current = defaultdict(list)
    for b in rows:
        current[(b.voter_key, slug[b.district_id])].append(b)
    old = defaultdict(list)
    for h in hist:
        old[(h.voter_key, slug[h.district_id])].append(h)
    assert set(current) == set(acks), "a ballot without acknowledgement, or an acknowledged voter without ballot"
    for key, acked in acks.items():
        assert len(current[key]) == 1, f"{len(current[key])} ballots for one voter and district"
        (b,) = current[key]
        receipts = [r for r, _ in acked]
        versions = sorted([h.version for h in old[key]] + [b.version])
        assert versions == list(range(1, len(receipts) + 1)), "versions must count 1..n without gaps"
        by_version = {h.version: h.receipt for h in old[key]} | {b.version: b.receipt}
        stored = [by_version[v] for v in sorted(by_version)]
        assert sorted(stored) == sorted(receipts), "an acknowledged ballot was lost or one was doubled"
        last_receipt, last_content = acked[-1]
        if isinstance(acks, OrderedAcks):
            assert stored == receipts, "history order differs from acknowledgement order"
            assert (b.receipt, b.content) == (last_receipt, last_content)
        else:
            # without a lock the serial order is the version order; the current ballot is the highest version
            content_of = dict(acked)
            assert b.receipt == stored[-1] and b.content == content_of[b.receipt]
    used = {k for k, _ in acks}
    assert all((c.spent_at is not None) == (c.voter_key in used) for c in codes)
    return len(rows), len(hist)


class OrderedAcks(dict):
    pass


def test_many_threads_cast_and_change_ballots(db, capsys):
    w = build(db, eligibility={"methods": ["access_code", "resident"], "multi_district": True})
    voters = _voters(db, w, residents=8, codes=4)
    locks = {v.key: threading.Lock() for v in voters}
    acks: OrderedAcks = OrderedAcks()
    acks_lock = threading.Lock()
    errors: list[BaseException] = []
    refused = [0]
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        try:
            for _ in range(OPS):
                v = rng.choice(voters)
                district = rng.choice(_districts(v))
                bad = rng.random() < 0.1
                content = {"projects": (w.north if district == "north" else w.south) + [999_999]} if bad \
                    else _content(rng, w, district)
                with locks[v.key]:
                    try:
                        r = voting.cast_ballot(db, w.round_id, district, v, content, now=NOW)
                    except ValidationFailed:
                        assert bad
                        with acks_lock:
                            refused[0] += 1
                        continue
                    assert not bad
                    with acks_lock:
                        acks.setdefault((v.key, district), []).append((r.receipt, r.content))
        except BaseException as exc:  # noqa: BLE001 - reported below with the thread's seed
            errors.append(exc)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    assert not errors, errors
    n_acks = sum(len(a) for a in acks.values())
    assert n_acks + refused[0] == THREADS * OPS
    current, hist = _check(db, w, acks)
    assert current + hist == n_acks
    with capsys.disabled():
        print(f"\n[{db.dialect}] {THREADS} threads x {OPS} ops: {n_acks} acknowledged, {refused[0]} refused, "
              f"{current} ballots, {hist} in history, {elapsed:.2f}s")


def _in_lockstep(steps: int, prepare) -> None:
    """THREADS threads, each `steps` times: `act = prepare(thread, step)` (what it sends, made beforehand),
    then a barrier, so that every thread acts at the same moment, then `act()`. The first error of any
    thread fails the test (and releases the others from the barrier)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        try:
            for step in range(steps):
                act = prepare(seed, step)
                barrier.wait()
                act()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_simultaneous_casts_of_one_voter_leave_one_ballot(db, capsys):
    w = build(db, eligibility={"methods": ["access_code", "resident"], "multi_district": True})
    voters = _voters(db, w, residents=RACE_ROUNDS // 2, codes=RACE_ROUNDS - RACE_ROUNDS // 2)
    acks: dict = {}
    acks_lock = threading.Lock()
    rngs = [random.Random(1000 + i) for i in range(THREADS)]
    t0 = time.perf_counter()

    def prepare(seed: int, step: int):
        v = voters[step // 2]  # two steps a voter: a fresh voter first (insert race), then replacements
        content = _content(rngs[seed], w, "north")

        def act():
            r = voting.cast_ballot(db, w.round_id, "north", v, content, now=NOW)
            with acks_lock:
                acks.setdefault((v.key, "north"), []).append((r.receipt, r.content))
        return act

    _in_lockstep(2 * len(voters), prepare)
    elapsed = time.perf_counter() - t0
    current, hist = _check(db, w, acks)
    assert current == RACE_ROUNDS and hist == RACE_ROUNDS * (2 * THREADS - 1)
    with capsys.disabled():
        print(f"\n[{db.dialect}] race: {THREADS} threads x {2 * RACE_ROUNDS} simultaneous casts on "
              f"{RACE_ROUNDS} voters: {current} ballots, {hist} in history, {elapsed:.2f}s")


def _round_slugs(db, w) -> tuple[str, str]:
    with db.session() as s:
        return s.get(City, w.city_id).slug, s.get(Round, w.round_id).slug


def test_simultaneous_online_casts_of_one_voter_leave_one_ballot(db):
    """The same race through the JSON API's path (voting.cast_online with the bearer token), where on
    PostgreSQL the statement that reads the round and the voter session also takes the voter's lock
    (voting._ROUND_VOTER_LOCK_PG): every thread hits one voter at once, for a code's first ballot (the
    insert race, the code spent once) and for changes."""
    w = build(db)
    tokens = _tokens(db, w, residents=0, codes=RACE_ROUNDS)
    with db.session() as s:
        rnd, city = s.get(Round, w.round_id), s.get(City, w.city_id)
        keys = {t: voting.voter_from_token(s, city, rnd, t, NOW).key for t in tokens}
    city_slug, round_slug = _round_slugs(db, w)
    acks: dict = {}
    acks_lock = threading.Lock()
    rngs = [random.Random(2000 + i) for i in range(THREADS)]

    def prepare(seed: int, step: int):
        t, content = tokens[step // 2], _content(rngs[seed], w, "north")

        def act():
            r = voting.cast_online(db, city_slug, round_slug, "north", lambda _rid: t, content, now=NOW, token=t)
            with acks_lock:
                acks.setdefault((keys[t], "north"), []).append((r.receipt, r.content))
        return act

    _in_lockstep(2 * len(tokens), prepare)
    current, hist = _check(db, w, acks)
    assert current == RACE_ROUNDS and hist == RACE_ROUNDS * (2 * THREADS - 1)


def test_simultaneous_online_first_ballots_in_two_districts_leave_one(db):
    """A round that allows a ballot in one district only: a resident's casts in north and south at the same
    moment, through cast_online, leave one district's ballots and refuse the others (409). The voter's lock
    decides it (the ballots' own row locks find no row to lock before the first insert); on PostgreSQL it is
    taken by the statement that reads the round and the voter session."""
    from pb_engine.errors import Conflict

    w = build(db, eligibility={"methods": ["access_code", "resident"], "multi_district": False})
    tokens = _tokens(db, w, residents=RACE_ROUNDS, codes=0)
    city_slug, round_slug = _round_slugs(db, w)
    cast: dict = defaultdict(set)
    refused: list = []
    lock = threading.Lock()
    rngs = [random.Random(3000 + i) for i in range(THREADS)]

    def prepare(seed: int, step: int):
        t, district = tokens[step], ("north", "south")[seed % 2]
        content = _content(rngs[seed], w, district)

        def act():
            try:
                voting.cast_online(db, city_slug, round_slug, district, lambda _rid: t, content, now=NOW, token=t)
                with lock:
                    cast[t].add(district)
            except Conflict as err:
                with lock:
                    refused.append((t, err.problems[0].code if err.problems else str(err)))
        return act

    _in_lockstep(len(tokens), prepare)
    assert all(len(cast[t]) == 1 for t in tokens), dict(cast)
    assert {code for _, code in refused} <= {"already_voted_elsewhere"} and len(refused) == len(tokens) * THREADS // 2
    with db.session() as s:
        rows = s.exec(select(Ballot).where(Ballot.round_id == w.round_id)).all()
    assert len(rows) == len(tokens) and len({b.voter_key for b in rows}) == len(tokens)


def test_the_round_secret_is_made_once_when_voters_race_for_it(db):
    w = build(db)
    with db.session() as s:
        assert s.get(Round, w.round_id).voter_secret == ""
    barrier = threading.Barrier(THREADS)
    tokens, errors = [], []

    def worker() -> None:
        try:
            barrier.wait()
            with db.write_session() as s:  # as the API opens voter sessions
                tokens.append(voting.open_voter_session(s, s.get(Round, w.round_id), resident=w.resident_id, now=NOW))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        keys = {voting.session_for_token(s, rnd, t, NOW).voter_key for t in tokens}
        assert len(tokens) == THREADS and len(keys) == 1
        from pb_engine import voter_keys
        assert keys == {voter_keys.resident_voter_key(bytes.fromhex(rnd.voter_secret), w.resident_id)}
