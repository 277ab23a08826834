"""The voters' money of EES / BOS runs (allocation/shares.py): lazy exact classes and the floats that screen.

EES charges its payers through `Wallets.charge_uniform`, whose new classes keep only a parent and a price
(their exact value is worked out when asked) and whose floats drift from the exact values by at most
`Wallets.err`. These tests hold that bookkeeping to a plain replay with exact money per voter group.
"""

from __future__ import annotations

from fractions import Fraction as F

from hypothesis import HealthCheck, given, settings

from pb_engine.allocation.ees import Engine
from pb_engine.allocation.mes import prepare
from pb_engine.allocation.mes_engine import to_fraction
from pb_engine.allocation.shares import Wallets
from pb_engine.allocation.tiebreak import by_id
from pb_engine.ballots.kinds import VoteType
from tests.allocation.examples import approvals, instance
from tests.allocation.strategies import elections


def _prepare(inst, prof, satisfaction="cardinality"):
    return prepare(inst, prof, satisfaction, by_id(p.id for p in inst.projects))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(vote_types=(VoteType.APPROVAL,), max_projects=6, max_ballots=8, min_cost=1))
def test_lazy_classes_hold_the_money_of_a_plain_replay(election):
    """Every group's class, at the end of a run, has exactly the money the group has when its payments are
    replayed one by one in Fractions; every float is within `err` of it; every histogram is ordered by exact
    money, richest first; every project's supporters hold the replay's money in all."""
    inst, prof = election
    if not prof.ballots:
        return
    prep = _prepare(inst, prof)
    P = prep.problem
    eng = Engine(prep)
    e = F(inst.budget) / len(prof.ballots)
    run = eng.run(e)
    money = [e] * len(P.mult)
    for t, pick in enumerate(p for p in run.picks if P.costs_q[p.project] > 0):
        cls, ev = run.history[t]
        payers = set(ev.order[: ev.j + 1].tolist())
        for g in P.supporters[pick.project].tolist():
            if int(cls[g]) in payers:
                money[g] -= to_fraction(pick.price)
    W = run.wallets
    floats = W.floats()
    for g, m in enumerate(money):
        k = int(W.cls[g])
        assert to_fraction(W.values[k]) == m
        assert abs(float(floats[k]) - float(m)) <= W.err + abs(float(m)) * 2 ** -52
    for c in range(len(P.costs)):
        cls, _ = W.histogram(c)
        vals = [W.values[int(k)] for k in cls]
        assert vals == sorted(vals, reverse=True)
        # the supporters' total money, worked out per price paid, is the replay's
        assert to_fraction(W.money(c)) == sum((money[g] * int(P.mult[g]) for g in P.supporters[c].tolist()), F(0))


def test_histogram_orders_exactly_where_float_drift_exceeds_the_relative_margin():
    """Voter 1 ends with 1e-6 after paying 1 - 1e-6 (a lazy class: its float is 1.0 - float(price), off by up
    to half an ulp of 1, far more than 1e-12 of 1e-6); voter 2 ends with 1e-6 + 1e-17 (an exact class). The
    floats put voter 1 first; the histogram must still put voter 2, the richer, first."""
    x = None
    for i in range(1, 2000):
        cand = F(10**6 + i, 10**12)                    # about 1e-6
        price = 1 - cand
        if (1.0 - float(price)) - float(cand + F(1, 10**17)) > 1e-17:
            x = cand
            break
    assert x is not None, "no value with enough float drift found"
    inst = instance(2, {"a": 1, "b": 1, "c": 1})
    prof = approvals({"a", "c"}, {"b", "c"})
    prep = _prepare(inst, prof)
    P = prep.problem
    a, b, c = (prep.ids.index(pid) for pid in ("a", "b", "c"))
    W = Wallets(P, 1)
    W.charge_uniform(a, [0], 1 - x)                     # lazy class
    W.charge_classes(b, [0], [1 - (x + F(1, 10**17))])  # exact class
    g1, g2 = (int(P.supporters[a][0]), int(P.supporters[b][0]))
    k1, k2 = int(W.cls[g1]), int(W.cls[g2])
    assert W.floats()[k1] > W.floats()[k2]              # the floats alone would order them wrongly
    cls, counts = W.histogram(c)
    assert cls.tolist() == [k2, k1]
    assert to_fraction(W.values[k1]) == x and to_fraction(W.values[k2]) == x + F(1, 10**17)
    assert abs(W.floats()[k1] - float(x)) <= W.err
