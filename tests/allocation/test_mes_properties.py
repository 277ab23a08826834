"""Properties of the method of equal shares on random small approval elections (hypothesis)."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import oracle  # noqa: E402
import pytest  # noqa: E402
from blur import blur_floats  # noqa: E402
from pabutools.analysis.justifiedrepresentation import is_EJR_one_approval  # noqa: E402
from pabutools.rules import method_of_equal_shares  # noqa: E402

from pb_engine.allocation import allocate  # noqa: E402
from pb_engine.allocation import mes_engine as E  # noqa: E402
from pb_engine.allocation.instance import Instance, Project  # noqa: E402
from pb_engine.allocation.mes import add1, endowment, is_exhaustive, prepare  # noqa: E402
from pb_engine.allocation.tiebreak import explicit  # noqa: E402
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType  # noqa: E402

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPLETIONS = [None, "greedy", "add1", "add1-comparison"]


@st.composite
def elections(draw, max_voters=9, max_projects=6, fractional=True):
    m = draw(st.integers(1, max_projects))
    ids = [str(i) for i in range(1, m + 1)]
    denom = draw(st.sampled_from([1, 1, 4])) if fractional else 1
    costs = [Fraction(draw(st.integers(1, 40)), denom) for _ in ids]
    budget = Fraction(draw(st.integers(1, 80)), denom)
    n = draw(st.integers(1, max_voters))
    ballots = [frozenset(draw(st.sets(st.sampled_from(ids), max_size=m))) for _ in range(n)]
    order = draw(st.permutations(ids))
    inst = Instance(budget, tuple(Project(i, c) for i, c in zip(ids, costs)))
    prof = Profile(VoteType.APPROVAL, tuple(ApprovalBallot(b) for b in ballots))
    return inst, prof, explicit(order)


def assert_same_as_pabutools(e, satisfaction: str, add1: bool = False) -> None:
    inst, prof, tie = e
    ours = allocate(inst, prof, "mes", satisfaction=satisfaction, tie_breaking=tie, **({"completion": "add1"} if add1 else {}))
    theirs = oracle.run(method_of_equal_shares, inst, prof, order=tie.order, sat=oracle.sat_class(prof.vote_type, satisfaction),
                        **({"voter_budget_increment": 1} if add1 else {}))
    assert frozenset(ours.selected) == theirs


@SETTINGS
@given(elections(), st.sampled_from(["cost", "cardinality"]))
def test_same_as_pabutools(e, satisfaction):
    assert_same_as_pabutools(e, satisfaction)


@SETTINGS
@given(elections(max_voters=6, max_projects=4), st.sampled_from(["cost", "cardinality"]))
def test_add1_same_as_pabutools(e, satisfaction):
    assert_same_as_pabutools(e, satisfaction, add1=True)


@SETTINGS
@given(elections(), st.sampled_from(["cost", "cardinality"]), st.sampled_from(COMPLETIONS), st.booleans())
def test_never_over_budget_and_consistent(e, satisfaction, completion, then_greedy):
    inst, prof, tie = e
    opts = {"then_greedy": True} if then_greedy and completion == "add1" else {}
    out = allocate(inst, prof, "mes", satisfaction=satisfaction, completion=completion, tie_breaking=tie, **opts)
    cost = {p.id: p.cost for p in inst.projects}
    assert out.total_cost == sum((cost[p] for p in out.selected), Fraction(0)) <= inst.budget
    assert len(set(out.selected)) == len(out.selected)
    assert {r.id for r in out.projects if r.funded} == set(out.selected)
    supported = set().union(*(b.projects for b in prof.ballots)) if prof.ballots else set()
    assert set(out.selected) <= supported             # nobody's money goes to a project nobody wants
    for r in out.projects:
        if r.funded and r.details.get("full_payers") is not None and "rho" in r.details:
            d = r.details
            assert d["supporters_money_before"] >= r.cost
            paid = d["payment_per_full_payer"] * d["full_payers"] + d["paid_by_partial_payers"]
            assert paid == r.cost
        if r.reason == "supporters_could_not_pay":
            assert r.details["supporters_money"] < r.cost
    # determinism: the same input (even with ballots in another order) gives the same outcome
    again = allocate(inst, Profile(prof.vote_type, tuple(reversed(prof.ballots))), "mes", satisfaction=satisfaction,
                     completion=completion, tie_breaking=tie, **opts)
    assert again.selected == out.selected and again.to_dict()["projects"] == out.to_dict()["projects"]


@SETTINGS
@given(elections(), st.booleans())
def test_add1_is_exhaustive_as_promised(e, exhaustive_stop):
    inst, prof, tie = e
    prep = prepare(inst, prof, "cost", tie)
    run, k, plain = add1(prep, Fraction(1), exhaustive_stop)
    assert run.total_cost <= inst.budget
    everything = {c for c in range(len(inst.projects)) if prep.supporters[c]} <= set(run.selected)
    if not everything and not (exhaustive_stop and is_exhaustive(prep, run.selected)):
        # it stopped because one more unit per voter goes over the budget
        assert E.run(prep.problem, endowment(prep, k + 1)).total_cost > inst.budget
    # every earlier raise was within budget (and, with the early stop, not yet exhaustive)
    for j in range(0, k, max(1, k // 20)):
        earlier = E.run(prep.problem, endowment(prep, j))
        assert earlier.total_cost <= inst.budget
        assert not (exhaustive_stop and is_exhaustive(prep, earlier.selected))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_voters=5, max_projects=4, fractional=False), st.sampled_from(["cost", "cardinality"]),
       st.sampled_from([None, "add1"]))
def test_ejr_up_to_one_project(e, satisfaction, completion):
    # pabutools enumerates every group of voters and every set of projects: keep elections tiny.
    inst, prof, tie = e
    out = allocate(inst, prof, "mes", satisfaction=satisfaction, completion=completion, tie_breaking=tie)
    pb = oracle.to_pabutools(inst, prof, multi=False)
    funded = [pb.project[pid] for pid in out.selected]
    assert is_EJR_one_approval(pb.instance, pb.profile, oracle.sat_class(prof.vote_type, satisfaction), funded)


@st.composite
def scored_elections(draw):
    """Small cumulative or ordinal elections (points / pabutools' Borda as units)."""
    m = draw(st.integers(1, 5))
    ids = [str(i) for i in range(1, m + 1)]
    inst = Instance(Fraction(draw(st.integers(1, 80))), tuple(Project(i, Fraction(draw(st.integers(1, 40)))) for i in ids))
    n = draw(st.integers(1, 7))
    if draw(st.booleans()):
        ballots = tuple(CumulativeBallot.of({p: draw(st.integers(1, 5)) for p in draw(st.sets(st.sampled_from(ids)))})
                        for _ in range(n))
        prof = Profile(VoteType.CUMULATIVE, ballots)
    else:
        ballots = tuple(OrdinalBallot(tuple(draw(st.permutations(ids)))[: draw(st.integers(1, m))]) for _ in range(n))
        prof = Profile(VoteType.ORDINAL, ballots)
    return inst, prof, explicit(draw(st.permutations(ids)))


@SETTINGS
@given(scored_elections(), st.sampled_from(["cost", "cardinality"]))
def test_points_and_borda_same_as_pabutools(e, satisfaction):
    assert_same_as_pabutools(e, satisfaction)


@SETTINGS
@given(elections(), st.sampled_from(["cost", "cardinality"]), st.sampled_from([None, "add1"]))
def test_floats_never_decide(e, satisfaction, completion):
    inst, prof, tie = e
    clean = allocate(inst, prof, "mes", satisfaction=satisfaction, completion=completion, tie_breaking=tie).to_dict()
    mp = pytest.MonkeyPatch()
    blur_floats(mp, 0.05, seed=11)
    try:
        blurred = allocate(inst, prof, "mes", satisfaction=satisfaction, completion=completion, tie_breaking=tie).to_dict()
    finally:
        mp.undo()
    assert blurred == clean
