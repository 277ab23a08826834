"""add1 skips raises whose outcome provably equals its neighbours' (mes._add1_skipping, mes_engine.run's
`below`): the answer must be the plain loop's (mes.add1_plain, one complete run per raise), always."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import oracle  # noqa: E402
from strategies import dear_projects, elections  # noqa: E402

from pb_engine.allocation import allocate  # noqa: E402
from pb_engine.allocation import mes  # noqa: E402
from pb_engine.allocation import mes_engine as E  # noqa: E402
from pb_engine.allocation.mes import _verdict, add1, add1_plain, endowment, prepare  # noqa: E402
from pb_engine.allocation.tiebreak import by_id  # noqa: E402

pytestmark = pytest.mark.usefixtures("exact_engine")   # the exact engine's own loops (conftest.py)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INCREMENTS = [Fraction(1), Fraction(1), Fraction(1, 2), Fraction(3)]


ELECTIONS = st.one_of(elections(min_cost=0), dear_projects())


def _prep(election, satisfaction):
    instance, profile = election
    return prepare(instance, profile, satisfaction, by_id(p.id for p in instance.projects))


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.booleans(), st.sampled_from(INCREMENTS))
def test_skipping_add1_is_the_plain_loop(election, satisfaction, exhaustive_stop, increment):
    if not election[1].ballots:
        return
    prep = _prep(election, satisfaction)
    stats = {}
    final, k, plain = add1(prep, increment, exhaustive_stop, workers=1, stats=stats)
    ref_final, ref_k, ref_plain = add1_plain(prep, increment, exhaustive_stop)
    assert (final.selected, k, plain.selected) == (ref_final.selected, ref_k, ref_plain.selected)
    assert final.endowment == ref_final.endowment and final.total_cost == ref_final.total_cost
    assert stats["runs"] <= k + 4   # never (much) more runs than the plain loop's k + 2


def _plain_skipping(prep, increment, exhaustive_stop):
    final, k, plain = add1_plain(prep, increment, exhaustive_stop)
    return final, k, plain, k + 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.sampled_from(["add1", "add1-comparison"]),
       st.booleans())
def test_outcome_with_skipping_is_the_outcome_of_the_plain_loop(election, satisfaction, completion, then_greedy):
    instance, profile = election
    opts = {"then_greedy": True} if then_greedy and completion == "add1" else {}
    fast = allocate(instance, profile, "mes", satisfaction=satisfaction, completion=completion, workers=1, **opts)
    mp = pytest.MonkeyPatch()
    mp.setattr(mes, "_add1_skipping", _plain_skipping)
    try:
        slow = allocate(instance, profile, "mes", satisfaction=satisfaction, completion=completion, workers=1, **opts)
    finally:
        mp.undo()
    assert fast.to_dict() == slow.to_dict()   # funded projects, notes (raises), every explanation


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.integers(0, 12), st.integers(2, 7),
       st.booleans())
def test_a_covering_run_speaks_for_every_raise_between(election, satisfaction, a, gap, early):
    """The certificate itself: when the run at b, checked against the run at a, `covers`, every run
    in between funds what it funds (complete runs), or gets its add1 verdict (runs that stop early)."""
    if not election[1].ballots:
        return
    prep = _prep(election, satisfaction)
    P, b = prep.problem, a + gap
    kw = {"budget": prep.budget, "exhaustive": True} if early else {}
    run_a = E.run(P, endowment(prep, a), **kw)
    run_b = E.run(P, endowment(prep, b), below=run_a, **kw)
    assert run_b.selected == E.run(P, endowment(prep, b), **kw).selected   # checking changes nothing
    if not run_b.covers:
        return
    supported = prep.supported()
    for j in range(a + 1, b):
        between = E.run(P, endowment(prep, j))
        if run_b.complete:
            assert between.selected == run_b.selected
        else:
            assert _verdict(prep, between, True, supported) == "go"


@pytest.mark.parametrize("name, satisfaction, exhaustive_stop", [
    ("Netherlands_Assen_2024.pb", "cardinality", False),
    ("Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb", "cost", True),
    ("Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb", "cost", True),
])
def test_skipping_on_real_files(name, satisfaction, exhaustive_stop):
    # real files where most raises are skipped (the answer still is the plain loop's)
    inst, prof = oracle.read(name)
    prep = prepare(inst, prof, satisfaction, by_id(p.id for p in inst.projects))
    stats = {}
    final, k, plain = add1(prep, Fraction(1), exhaustive_stop, workers=1, stats=stats)
    ref_final, ref_k, ref_plain = add1_plain(prep, Fraction(1), exhaustive_stop)
    assert (final.selected, k, plain.selected) == (ref_final.selected, ref_k, ref_plain.selected)
    assert stats["runs"] < (k + 2) / 2
