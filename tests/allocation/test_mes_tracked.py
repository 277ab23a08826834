"""Runs that start where a run at a lower endowment stood (mes_engine.run_tracked), and add1 built on them:
every such run must fund what a run from scratch (mes_engine.run) funds, step for step, always."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import oracle  # noqa: E402
from blur import blur_floats  # noqa: E402
from strategies import elections  # noqa: E402

from pb_engine.allocation import mes  # noqa: E402
from pb_engine.allocation import mes_engine as E  # noqa: E402
from pb_engine.allocation.instance import Instance, Project  # noqa: E402
from pb_engine.allocation.mes import _verdict, add1, add1_plain, endowment, prepare  # noqa: E402
from pb_engine.allocation.tiebreak import by_id  # noqa: E402
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, Profile, VoteType  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATA = Path(__file__).resolve().parents[1] / "data"
REAL = sorted((DATA / "pabulib").glob("*.pb")) + sorted((DATA / "pabulib_quirks").glob("*.pb"))


pytestmark = pytest.mark.usefixtures("exact_engine")   # the exact engine's own loops (conftest.py)


@st.composite
def many_raises(draw):
    """Small shares per voter against dear projects, some ballots repeated: add1 raises them many times."""
    ids = [str(i) for i in range(1, draw(st.integers(2, 8)) + 1)]
    costs = [Fraction(draw(st.integers(1, 60))) for _ in ids]
    budget = Fraction(draw(st.integers(1, 90)))
    kinds = [draw(st.sets(st.sampled_from(ids), min_size=1, max_size=len(ids))) for _ in range(draw(st.integers(1, 5)))]
    votes = [kinds[draw(st.integers(0, len(kinds) - 1))] for _ in range(draw(st.integers(3, 16)))]
    if draw(st.booleans()):
        points = {frozenset(v): {p: draw(st.integers(1, 4)) for p in v} for v in kinds}
        profile = Profile(VoteType.CUMULATIVE, tuple(CumulativeBallot.of(points[frozenset(v)]) for v in votes))
    else:
        profile = Profile(VoteType.APPROVAL, tuple(ApprovalBallot(frozenset(v)) for v in votes))
    return Instance(budget, tuple(Project(i, c) for i, c in zip(ids, costs))), profile


ELECTIONS = st.one_of(elections(min_cost=0), many_raises())


def _prep(election, satisfaction):
    instance, profile = election
    return prepare(instance, profile, satisfaction, by_id(p.id for p in instance.projects))


def _chain(prep, ks, increment=Fraction(1), watch=False):
    """run_tracked at ks[0], then at each later k from the record before; each checked against E.run."""
    P = prep.problem
    budget = prep.budget if watch else None
    rec = None
    made = 0
    supported = prep.supported()
    for k in ks:
        e = endowment(prep, k, increment)
        got, rec, computed = E.run_tracked(P, e, budget=budget, exhaustive=watch, base=rec,
                                           want=float(e + 2 * increment))
        made += computed
        ref = E.run(P, e)
        if got.complete:
            assert got.selected == ref.selected
            assert E.rhos_at(P, rec, got) == ref.rhos   # the record speaks for this run, step for step
            assert got.total_cost == ref.total_cost
        else:   # stopped early: what it funded so far is the start of the whole run, and its verdict is the run's
            assert ref.selected[:len(got.selected)] == got.selected
            assert _verdict(prep, got, True, supported) == _verdict(prep, ref, True, supported)
    return made


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.integers(0, 6), st.lists(st.integers(1, 4), max_size=8),
       st.booleans(), st.sampled_from([Fraction(1), Fraction(1, 3), Fraction(5)]))
def test_a_run_from_a_lower_one_is_the_run_from_scratch(election, satisfaction, k0, gaps, watch, increment):
    if not election[1].ballots:
        return
    ks = [k0]
    for g in gaps:
        ks.append(ks[-1] + g)
    _chain(_prep(election, satisfaction), ks, increment, watch)


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.booleans(), st.sampled_from(["track", "switch"]))
def test_add1_is_the_plain_loop_whether_it_tracks_or_switches(election, satisfaction, exhaustive_stop, mode):
    if not election[1].ballots:
        return
    prep = _prep(election, satisfaction)
    mp = pytest.MonkeyPatch()
    if mode == "track":
        mp.setattr(mes, "TRACK_WORTH", float("inf"))   # never hands over to the covering loop
    else:
        mp.setattr(mes, "TRACK_TRIAL", 2)
        mp.setattr(mes, "TRACK_WORTH", -1.0)           # hands over after two raises
    try:
        final, k, plain = add1(prep, Fraction(1), exhaustive_stop, workers=1)
    finally:
        mp.undo()
    ref_final, ref_k, ref_plain = add1_plain(prep, Fraction(1), exhaustive_stop)
    assert (final.selected, k, plain.selected) == (ref_final.selected, ref_k, ref_plain.selected)
    assert final.endowment == ref_final.endowment and final.total_cost == ref_final.total_cost


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_tracked_runs_on_real_files(path):
    """The first raises of add1 on every test file (cost; cardinality on the smaller ones), from the run before."""
    inst, prof = oracle.read(path)
    for sat in ("cost", "cardinality") if len(prof.ballots) < 10_000 else ("cost",):
        _chain(prepare(inst, prof, sat, by_id(p.id for p in inst.projects)), [0, 1, 2, 3, 5])


def test_tracked_runs_with_blurred_floats(monkeypatch):
    """Floats off by up to 2.5% of the endowment (and delta() saying so): the bounds that let a run start
    mid-way must still be bounds, so the runs still are the runs from scratch (which the exact checks keep)."""
    inst, prof = oracle.read("Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb")
    prep = prepare(inst, prof, "cost", by_id(p.id for p in inst.projects))
    blur_floats(monkeypatch, 0.05, seed=3)
    _chain(prep, [0, 1, 2, 4, 8, 9])


def test_a_proved_raise_is_not_run():
    # Warszawa 2017 (Plac Wojska Polskiego): add1 raises the share 1484 times, the outcome changes rarely
    inst, prof = oracle.read("Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb")
    prep = prepare(inst, prof, "cost", by_id(p.id for p in inst.projects))
    made = _chain(prep, list(range(0, 40)))
    assert made < 10
