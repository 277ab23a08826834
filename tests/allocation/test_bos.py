"""Equal Shares with Bounded Overspending (rule `bos`).

The first four tests are the unit tests published with the authors' function `bounded_overspending`
(PishbinZein/FairnessInTheMultiSecretaryProblem_AAAI2026, and the EC'25 code it was taken from),
restated on our objects: same elections, same expected outcomes.
"""

from __future__ import annotations

from fractions import Fraction as F

from hypothesis import given, settings
from hypothesis import strategies as st

from pb_engine.allocation import allocate
from pb_engine.allocation.outcome import DID_NOT_FIT, FUNDED, NO_SUPPORT, SUPPORTERS_COULD_NOT_PAY
from pb_engine.ballots.kinds import Profile
from tests.allocation.examples import approvals, cumulative, instance, reasons
from tests.allocation.strategies import elections


def test_reference_1_cheap_full_project_beats_a_partly_paid_one():
    """Budget 100, 10 voters (10 each); c0 costs 30 (4 supporters), c1 100 (6). Cost utilities.
    c0: its 40 cover it, rho = 30 / (4 x 30) = 1/4, alpha 1. c1: 60 of 100, alpha 0.6 at 1/10 a unit,
    rho / alpha = 0.1 / 0.36 = 0.28 > 0.25: c0 first; then c1 no longer fits."""
    out = allocate(instance(100, {"0": 30, "1": 100}), approvals(*([{"1"}] * 6 + [{"0"}] * 4)), "bos")
    assert out.selected == ("0",)
    assert out.result("1").reason == DID_NOT_FIT


def test_reference_2_partly_paid_project_wins():
    """Same, with 3 supporters for c0 (rho 1/3) and 7 for c1 (alpha 0.7: 0.1 / 0.49 = 0.20): c1 is funded,
    its supporters pay their 70, 30 is overspent."""
    out = allocate(instance(100, {"0": 30, "1": 100}), approvals(*([{"1"}] * 7 + [{"0"}] * 3)), "bos")
    assert out.selected == ("1",)
    d = out.result("1").details
    assert (d["alpha"], d["paid_by_voters"], d["overspent"]) == (F(7, 10), 70, 30)


def test_reference_3_scores():
    out = allocate(instance(2, {"0": 1, "1": 1, "2": 1}), cumulative(
        {"0": 1, "1": 1, "2": 10}, {"0": 1, "1": 1, "2": 10}, {"0": 1, "1": 100, "2": 2},
        {"0": 1, "1": 100, "2": 2}, {"0": 100, "1": 1, "2": 2}, {"0": 100, "1": 1, "2": 2}),
        "bos", satisfaction="cardinality")
    assert sorted(out.selected) == ["0", "1"]


def test_reference_parties():
    """Parties of 20, 30 and 50 voters, each approving its own 10 unit-cost candidates, 10 seats: 2, 3, 5."""
    parties, k = (20, 30, 50), 10
    costs = {f"{p}-{j}": 1 for p in range(3) for j in range(k)}
    ballots = [{f"{p}-{j}" for j in range(k)} for p, size in enumerate(parties) for _ in range(size)]
    out = allocate(instance(k, costs), approvals(*ballots), "bos")
    won = [sum(pid.startswith(f"{p}-") for pid in out.selected) for p in range(3)]
    assert won == [2, 3, 5]


def test_hand_checked_overspending():
    """Budget 4, two voters with 2 each; voter 1 approves a (cost 2) and b (1), voter 2 approves c (1).
    Cardinality utilities. b and c cost 1 per unit of utility with alpha 1 (tie: b first by id): voters pay 1
    each. a: voter 1 has 1 left, half its cost: alpha 1/2 at 1 a unit, rho = 2, rho / alpha = 4; it fits
    (2 left), so it is funded with 1 overspent. (MES would stop after b and c.)"""
    inst = instance(4, {"a": 2, "b": 1, "c": 1})
    prof = approvals({"a", "b"}, {"c"})
    out = allocate(inst, prof, "bos", satisfaction="cardinality")
    assert out.selected == ("b", "c", "a")
    d = out.result("a").details
    assert (d["alpha"], d["rho"], d["rho_per_alpha"], d["overspent"], d["paid_all_they_had"]) == \
        (F(1, 2), 2, 4, 1, 1)
    assert allocate(inst, prof, "mes", satisfaction="cardinality").selected == ("b", "c")


def test_never_funds_a_project_whose_supporters_have_no_money():
    """Budget 4, voters with 2 each: voter 1 approves a (cost 2), d and f (1 each); voter 2 approves e (10).
    d and f (rho 1) take voter 1's 2; e never fits. 2 of the budget is left and a fits, but its only
    supporter has nothing: no alpha > 0, so a is not funded. The published function would fund it: a's
    ratio is then infinite, equal to its initial `lowest_ratio`, and its tie branch picks it."""
    out = allocate(instance(4, {"a": 2, "d": 1, "f": 1, "e": 10}), approvals({"a", "d", "f"}, {"e"}), "bos",
                   satisfaction="cardinality")
    assert out.selected == ("d", "f")
    assert reasons(out) == {"a": SUPPORTERS_COULD_NOT_PAY, "d": FUNDED, "f": FUNDED, "e": DID_NOT_FIT}
    assert out.result("a").details["supporters_money"] == 0


def test_no_ballots():
    out = allocate(instance(4, {"a": 2}), Profile(approvals().vote_type, ()), "bos")
    assert out.selected == () and reasons(out) == {"a": NO_SUPPORT}


@settings(max_examples=150, deadline=None)
@given(elections(max_projects=6, max_ballots=7), st.sampled_from(["cost", "cardinality"]))
def test_properties(election, satisfaction):
    inst, prof = election
    out = allocate(inst, prof, "bos", satisfaction=satisfaction)
    assert out.total_cost <= inst.budget
    for pid in out.selected:
        d = out.result(pid).details
        cost = inst.project(pid).cost
        if cost:
            assert d["supporters_money_before"] > 0          # someone had money: alpha > 0
            assert 0 < d["alpha"] <= 1
            assert d["paid_by_voters"] == d["alpha"] * cost
            assert d["paid_by_voters"] <= d["supporters_money_before"]
    again = allocate(inst, Profile(prof.vote_type, tuple(reversed(prof.ballots))), "bos", satisfaction=satisfaction)
    assert again.to_dict() == out.to_dict()
    # what BOS leaves unfunded either does not fit or has supporters without money
    for r in out.projects:
        assert r.funded or r.reason in (DID_NOT_FIT, SUPPORTERS_COULD_NOT_PAY, NO_SUPPORT)
