"""The comparison's figures (pb_engine.analysis.figures): each one on a small round worked out by hand,
and on a real Pabulib round against the same figures computed independently (pabutools' own parser and
its analysis module where it has the figure; numpy or plain loops where it has not)."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from pb_engine import pabulib
from pb_engine.allocation.instance import Instance, Project
from pb_engine.analysis import figures as fig
from pb_engine.analysis.rule_runs import outcomes_for, rules_for
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, Profile, VoteType

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"


def approval(*sets):
    return Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset(s)) for s in sets])


# --- a small round, by hand ---------------------------------------------------------------------
# North: budget 100; projects a=60 (parks), b=30 (streets), c=20 (none); ballots {a}, {a,b}, {c}, {}.
# South: budget 50; projects d=40 (parks), e=25 (parks, streets); ballots {d}, {e}, {d,e}.
NORTH = Instance(F(100), [Project("a", F(60), categories=("parks",)), Project("b", F(30), categories=("streets",)),
                          Project("c", F(20))])
SOUTH = Instance(F(50), [Project("d", F(40), categories=("parks",)),
                         Project("e", F(25), categories=("parks", "streets"))])
ROUND = [(NORTH, approval({"a"}, {"a", "b"}, {"c"}, set())), (SOUTH, approval({"d"}, {"e"}, {"d", "e"}))]
FUNDED = [{"a", "b"}, {"d"}]


def test_ballot_length_by_hand():
    got = fig.ballot_length(ROUND)
    # lengths 1, 2, 1, 0 | 1, 1, 2 -> mean 8/7, median 1, distribution {0: 1, 1: 4, 2: 2}
    assert (got.ballots, got.mean, got.median, dict(got.distribution)) == (7, F(8, 7), 1, {0: 1, 1: 4, 2: 2})
    assert fig.as_json(got)["mean"] == 1.142857


def test_ballot_spend_by_hand():
    got = fig.ballot_spend(ROUND)
    # shares of the district's budget: 60/100, 90/100, 20/100, 0 | 40/50, 25/50, 65/50
    shares = sorted([F(6, 10), F(9, 10), F(2, 10), F(0), F(8, 10), F(5, 10), F(13, 10)])
    assert got.mean_share == sum(shares) / 7 == F(43, 70)
    assert got.median_share == F(6, 10)


def test_cost_distribution_by_hand():
    got = fig.cost_distribution(ROUND)
    # costs 20 25 30 40 60: inclusive quartiles at positions 1, 2, 3 of 0..4 -> 25, 30, 40
    assert (got.projects, got.min, got.q1, got.median, got.q3, got.max, got.total) == (5, 20, 25, 30, 40, 60, 175)
    assert got.largest_share == F(40, 50)  # d takes 80 % of South; a only 60 % of North
    assert [float(x) for x in (got.q1, got.median, got.q3)] == list(np.percentile([20, 25, 30, 40, 60], [25, 50, 75]))
    one = fig.cost_distribution((Instance(F(10), [Project("x", F(7))]), approval()))
    assert (one.q1, one.median, one.q3, one.largest_share) == (7, 7, 7, F(7, 10))


def test_spending_and_categories_by_hand():
    s = fig.spending(ROUND, FUNDED)
    assert (s.funded, s.spend, s.budget, s.spend_share) == (3, 130, 150, F(13, 15))
    cats = fig.category_shares(ROUND, FUNDED, {"parks": "environment"})
    assert set(cats) == {"environment", "streets", "uncategorised"}
    env = cats["environment"]  # a, d funded (60 + 40), e not; 3 projects
    assert (env.projects, env.funded, env.funded_share, env.spend, env.spend_share) == (3, 2, F(2, 3), 100, F(2, 3))
    st = cats["streets"]       # b funded (30), e not
    assert (st.projects, st.funded, st.funded_share, st.spend_share) == (2, 1, F(1, 3), F(1, 5))
    assert cats["uncategorised"].funded == 0 and cats["uncategorised"].spend_share == 0


def test_fairness_by_hand():
    got = fig.fairness(ROUND, FUNDED)
    # North (a, b funded): {a} 60/100, {a,b} 90/100, {c} 0, {} 0; South (d): {d} 40/50, {e} 0, {d,e} 40/50
    cost = [F(6, 10), F(9, 10), 0, 0, F(8, 10), 0, F(8, 10)]
    count = [1, 2, 0, 0, 1, 0, 1]
    assert (got.voters, got.with_funded, got.share_with_funded) == (7, 4, F(4, 7))
    assert got.mean_satisfaction_cost == sum(cost) / 7 == F(31, 70)
    assert got.mean_satisfaction_count == F(5, 7)
    # Gini by its definition: sum of |x_i - x_j| over all pairs / (2 n^2 mean)
    def gini_by_definition(xs):
        xs = [F(x) for x in xs]
        return sum(abs(x - y) for x in xs for y in xs) / (2 * len(xs) ** 2 * (sum(xs) / len(xs)))
    assert got.gini_cost == gini_by_definition(cost)
    # counts 0 0 0 1 1 1 2: pairs differ by 1 (3x3 + 3x1) and by 2 (3x1): 18, twice over all ordered pairs
    assert got.gini_count == gini_by_definition(count) == F(2 * 18, 2 * 49) / F(5, 7) == F(18, 35)
    # majorities: a has 2 of 4 North voters (not more than half), b 1 of 4; d 2 of 3 South voters
    assert got.unapproved_spend == 90 and got.unapproved_spend_share == F(90, 150)


def test_gini_edges():
    assert fig.gini([]) is None
    assert fig.gini([0, 0, 0]) == 0
    assert fig.gini([5, 5]) == 0
    assert fig.gini([0, 0, 0, 1]) == F(3, 4)
    with pytest.raises(ValueError):
        fig.gini([-1, 2])


def test_points_ballots_count_support():
    inst = Instance(F(10), [Project("x", F(4)), Project("y", F(6))])
    prof = Profile(VoteType.CUMULATIVE, [CumulativeBallot.of({"x": 3, "y": 0}), CumulativeBallot.of({"y": 2})])
    assert dict(fig.ballot_length((inst, prof)).distribution) == {1: 2}
    assert fig.fairness((inst, prof), {"x"}).share_with_funded == F(1, 2)


def test_changes_between_rules():
    got = fig.changes({"greedy": [{"a", "b"}, {"d"}], "mes": [{"a", "c"}, {"d"}], "official": [{"a"}, {"d"}]})
    assert [(c.id, c.funded_by, c.not_funded_by) for c in got] == [
        ("b", ("greedy",), ("mes", "official")), ("c", ("mes",), ("greedy", "official"))]
    assert fig.changes({}) == ()


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="one collection of ids per district"):
        fig.spending(ROUND, {"a"})
    with pytest.raises(ValueError, match="1 collections of ids for 2 districts"):
        fig.spending(ROUND, [{"a"}])


def test_outcomes_for_runs_every_rule_taking_the_kind():
    runs = outcomes_for(ROUND)
    assert list(runs) == rules_for("approval")
    assert runs["greedy"].funded == (frozenset({"a", "b"}), frozenset({"d"}))
    assert runs["greedy-threshold"].skipped == "needs_options" and "threshold" in runs["greedy-threshold"].message
    assert outcomes_for(ROUND, ["greedy"]) == {"greedy": runs["greedy"]}  # memoised: the very same outcomes
    big = outcomes_for(ROUND, ["greedy"], max_ballots=6)["greedy"]
    assert big.skipped == "too_large" and big.outcomes is None


# --- a real Pabulib round against pabutools ------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    from pabutools.election import parse_pabulib

    path = DATA / "Poland_Warszawa_2018_rejon_6.pb"
    pb = pabulib.parse_path(path)
    pt_instance, pt_profile = parse_pabulib(str(path))
    return pb, pt_instance, pt_profile


def test_real_round_against_pabutools(real):
    from pabutools.analysis.profileproperties import avg_ballot_cost, avg_ballot_length, median_ballot_length
    from pabutools.analysis.votersatisfaction import (avg_satisfaction, gini_coefficient_of_satisfaction,
                                                      percent_non_empty_handed)
    from pabutools.election import Cardinality_Sat, Cost_Sat

    pb, pt_instance, pt_profile = real
    election = (pb.instance, pb.profile)
    official = pb.published("selected")
    funded = {pid for pid, v in official.items() if v.strip() == "1"}
    pt_funded = [p for p in pt_instance if p.name in funded]
    budget = pt_instance.budget_limit
    assert F(str(budget)) == pb.instance.budget and len(pt_funded) == len(funded) > 0

    length = fig.ballot_length(election)
    assert length.ballots == pt_profile.num_ballots()
    assert length.mean == F(str(avg_ballot_length(pt_instance, pt_profile)))
    assert int(length.median) == median_ballot_length(pt_instance, pt_profile)  # pabutools truncates to int
    assert sum(length.distribution.values()) == len(pt_profile)

    spend = fig.ballot_spend(election)
    assert spend.mean_share == F(str(avg_ballot_cost(pt_instance, pt_profile))) / F(str(budget))

    fair = fig.fairness(election, funded)
    assert fair.share_with_funded == F(str(percent_non_empty_handed(pt_instance, pt_profile, pt_funded)))
    assert fair.mean_satisfaction_cost == F(str(avg_satisfaction(pt_instance, pt_profile, pt_funded, Cost_Sat))) / budget
    assert fair.mean_satisfaction_count == F(str(avg_satisfaction(pt_instance, pt_profile, pt_funded, Cardinality_Sat)))
    for ours, sat in ((fair.gini_cost, Cost_Sat), (fair.gini_count, Cardinality_Sat)):
        assert float(ours) == pytest.approx(float(gini_coefficient_of_satisfaction(pt_instance, pt_profile,
                                                                                   pt_funded, sat)), abs=1e-12)
    # pabutools has no majority figure: count supporters with its ballots
    voters = len(pt_profile)
    unapproved = sum(p.cost for p in pt_funded if 2 * sum(1 for b in pt_profile if p in b) <= voters)
    assert fair.unapproved_spend == F(str(unapproved))


def test_real_round_costs_and_categories(real):
    from pabutools.analysis.instanceproperties import median_project_cost, sum_project_cost

    pb, pt_instance, _ = real
    election = (pb.instance, pb.profile)
    funded = {pid for pid, v in pb.published("selected").items() if v.strip() == "1"}
    costs = fig.cost_distribution(election)
    assert costs.total == F(str(sum_project_cost(pt_instance)))
    assert costs.median == F(str(median_project_cost(pt_instance)))
    pt_costs = [float(p.cost) for p in pt_instance]
    assert [float(x) for x in (costs.q1, costs.q3)] == pytest.approx(list(np.percentile(pt_costs, [25, 75])))
    assert costs.largest_share == F(str(max(p.cost for p in pt_instance))) / F(str(pt_instance.budget_limit))

    cats = fig.category_shares(election, funded)
    pt_funded = [p for p in pt_instance if p.name in funded]
    for term in {c for p in pt_instance for c in p.categories}:
        in_term = [p for p in pt_funded if term in p.categories]
        assert cats[term].funded == len(in_term)
        assert cats[term].funded_share == F(len(in_term), len(pt_funded))
        assert cats[term].spend_share == F(str(sum(p.cost for p in in_term))) / F(str(pt_instance.budget_limit))


def test_fairness_many_and_the_big_number_path():
    both = fig.fairness_many(ROUND, {"hand": FUNDED, "none": [set(), set()]})
    assert both["hand"] == fig.fairness(ROUND, FUNDED)
    assert (both["none"].with_funded, both["none"].gini_cost, both["none"].unapproved_spend) == (0, 0, 0)
    # money too large for int64 sums: the same figures through Python's integers
    big = 10 ** 20
    scaled = [(Instance(i.budget * big, [Project(p.id, p.cost * big, categories=p.categories) for p in i.projects]), prof)
              for i, prof in ROUND]
    got = fig.fairness(scaled, FUNDED)
    assert got.mean_satisfaction_cost == F(31, 70) and got.gini_cost == fig.fairness(ROUND, FUNDED).gini_cost
    assert got.unapproved_spend == 90 * big
    # costs in fractions of a unit (a .pb file's 0.5) stay exact
    halves = (Instance(F(3, 2), [Project("x", F(1, 2)), Project("y", F(1))]), approval({"x"}, {"y"}, {"x", "y"}))
    assert fig.fairness(halves, {"x", "y"}).mean_satisfaction_cost == (F(1, 3) + F(2, 3) + 1) / 3
