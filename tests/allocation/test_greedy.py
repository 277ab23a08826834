"""greedy, greedy-no-skip, greedy-threshold: hand-computed cases, Pabulib files and properties against pabutools."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from examples import approvals, cumulative, instance, ordinal, reasons, spent
from strategies import elections
from pb_engine.allocation import allocate
from pb_engine.allocation.outcome import BELOW_THRESHOLD, DID_NOT_FIT, FUNDED, NO_SUPPORT, STOPPED
from pb_engine.allocation.satisfaction import scores
from pb_engine.allocation.tiebreak import by_id, explicit
from pb_engine.ballots.kinds import Profile, VoteType
from pb_engine.errors import ValidationFailed

# Budget 100. Votes: 1:5, 2:4, 3:3, 4:2, 9:1, 10:1, 11:0 (6 ballots, one empty).
SMALL = instance(100, {"1": 60, "2": 50, "3": 30, "4": 20, "9": 10, "10": 10, "11": 5})
SMALL_VOTES = approvals({"1", "2", "3", "4"}, {"1", "2", "3", "4"}, {"1", "2", "3"}, {"1", "2", "9"}, {"1", "10"}, set())


def test_greedy_by_votes_skips_what_does_not_fit():
    out = allocate(SMALL, SMALL_VOTES, "greedy")
    # 1 (40 left), 2 too dear, 3 (10 left), 4 too dear, 9 wins its tie with 10 (ids as numbers), 10 too dear
    assert out.selected == ("1", "3", "9")
    assert out.total_cost == 100
    assert reasons(out) == {"1": FUNDED, "2": DID_NOT_FIT, "3": FUNDED, "4": DID_NOT_FIT, "9": FUNDED,
                            "10": DID_NOT_FIT, "11": NO_SUPPORT}
    r2 = out.result("2")
    assert r2.message == "not funded: costs 50, only 40 left when its turn came"
    assert r2.details["money_left"] == 40 and r2.score == 4
    r3 = out.result("3")
    assert (r3.step, r3.score, r3.details["money_left"]) == (2, 3, 10)
    assert r3.message == "funded in step 2: 3 votes, costs 30, 10 left after it"
    assert out.result("11").message == "not funded: no voter supported it"


def test_tie_breaking_order_decides_ties():
    order = explicit(["10", "9", "1", "2", "3", "4", "11"])
    assert allocate(SMALL, SMALL_VOTES, "greedy", tie_breaking=order).selected == ("1", "3", "10")


def test_greedy_cardinality_orders_by_votes_per_cost():
    out = allocate(SMALL, SMALL_VOTES, "greedy", satisfaction="cardinality")
    # 3, 4, 9, 10 all at 1 vote per 10; then 1 (5/60) and 2 (4/50) no longer fit
    assert out.selected == ("3", "4", "9", "10")
    assert out.result("1").reason == DID_NOT_FIT
    assert out.result("3").details["score_per_cost"] == Fraction(1, 10)


def test_no_skip_stops_at_first_misfit():
    out = allocate(SMALL, SMALL_VOTES, "greedy-no-skip")
    assert out.selected == ("1",)
    assert reasons(out) == {"1": FUNDED, "2": DID_NOT_FIT, "3": STOPPED, "4": STOPPED, "9": STOPPED,
                            "10": STOPPED, "11": NO_SUPPORT}
    assert out.result("3").details["stopped_by"] == "2"
    assert out.result("3").message == "not funded: allocation stopped when project 2 did not fit (40 left)"


def test_no_skip_ignores_a_project_dearer_than_the_whole_budget():
    inst = instance(100, {"1": 150, "2": 60, "3": 40})
    out = allocate(inst, approvals({"1", "2"}, {"1", "3"}, {"1"}), "greedy-no-skip")
    assert out.selected == ("2", "3")
    assert out.result("1").reason == DID_NOT_FIT
    assert out.result("1").message == "not funded: costs 150, more than the whole budget of 100"


@pytest.mark.parametrize("options, selected, below", [
    ({"threshold": 2}, ("1", "3"), {"9", "10"}),
    ({"threshold": 3}, ("1", "3"), {"4", "9", "10"}),
    ({"threshold_share": Fraction(1, 2)}, ("1", "3"), {"4", "9", "10"}),   # 1/2 of 6 ballots = 3
    ({"threshold_share": Fraction(1, 3)}, ("1", "3"), {"9", "10"}),        # 2
    ({"threshold": 0}, ("1", "3", "9"), set()),
])
def test_threshold(options, selected, below):
    out = allocate(SMALL, SMALL_VOTES, "greedy-threshold", **options)
    assert out.selected == selected
    assert {pid for pid, r in reasons(out).items() if r == BELOW_THRESHOLD} == below


def test_threshold_reason_carries_the_figures():
    out = allocate(SMALL, SMALL_VOTES, "greedy-threshold", threshold_share=Fraction(1, 2))
    r = out.result("4")
    assert r.message == "not funded: 2 votes, under the threshold of 3"
    assert r.details == {"threshold": 3, "threshold_share": Fraction(1, 2), "ballots": 6}
    assert out.options["threshold_share"] == "1/2"


def test_big_money_is_written_in_groups():
    inst = instance(200_000, {"1": 120_000, "2": 120_000})
    out = allocate(inst, approvals({"1", "2"}, {"1"}), "greedy")
    assert out.result("2").message == "not funded: costs 120 000, only 80 000 left when its turn came"


def test_cumulative_orders_by_points():
    inst = instance(10, {"a": 6, "b": 5, "c": 4})
    prof = cumulative({"a": 1, "b": 3}, {"b": 1, "c": 2}, {"a": 2, "c": 1})  # a 3, b 4, c 3
    assert allocate(inst, prof, "greedy").selected == ("b", "c")  # tie a/c by id: a first but 6 > 5 left
    assert allocate(inst, prof, "greedy").result("b").message.startswith("funded in step 1: 4 points")


def test_ordinal_orders_by_borda():
    inst = instance(10, {"a": 6, "b": 5, "c": 4})
    # Borda k-1-i: (a,b,c) gives a 2, b 1, c 0; (c,a) gives c 1, a 0; (b,) gives b 0
    prof = ordinal(("a", "b", "c"), ("c", "a"), ("b",))
    out = allocate(inst, prof, "greedy")
    assert {r.id: r.score for r in out.projects} == {"a": 2, "b": 1, "c": 1}
    assert out.selected == ("a", "c")


@pytest.mark.parametrize("rule, options, field", [
    ("greedy", {"satisfaction": "happiness"}, "satisfaction"),
    ("greedy-threshold", {}, "threshold"),
    ("greedy-threshold", {"threshold": 2, "threshold_share": Fraction(1, 10)}, "threshold"),
    ("greedy-threshold", {"threshold": -1}, "threshold"),
    ("greedy-threshold", {"threshold_share": 2}, "threshold_share"),
    ("greedy", {"threshold": 5}, "threshold"),
    ("greedy-no-skip", {"threshold_share": Fraction(1, 10)}, "threshold_share"),
    ("greedy", {"completion": "add1"}, "completion"),
    ("greedy-threshold", {"threshold": 2, "treshold_share": 1}, "treshold_share"),
])
def test_bad_options_name_the_field(rule, options, field):
    with pytest.raises(ValidationFailed) as err:
        allocate(SMALL, SMALL_VOTES, rule, **options)
    assert field in err.value.errors


def test_rule_checks_satisfaction_even_without_allocate():
    from pb_engine.allocation.greedy import greedy
    from pb_engine.allocation.registry import RuleOptions

    with pytest.raises(ValidationFailed) as err:
        greedy(SMALL, SMALL_VOTES, RuleOptions(satisfaction="happiness"), by_id(p.id for p in SMALL.projects))
    assert "satisfaction" in err.value.errors


def test_tie_breaking_order_must_rank_every_project():
    with pytest.raises(ValidationFailed) as err:
        allocate(SMALL, SMALL_VOTES, "greedy", tie_breaking=explicit(["1", "2"]))
    assert "tie_breaking" in err.value.errors


# --------------------------------------------------------------------------- Pabulib files


FILES = [f.name for f in oracle.pabulib_files()]


@pytest.mark.parametrize("satisfaction", ["cost", "cardinality"])
@pytest.mark.parametrize("file", FILES)
def test_greedy_matches_pabutools_on_file(file, satisfaction):
    inst, prof = oracle.read(file)
    order = by_id(p.id for p in inst.projects).order
    ours = allocate(inst, prof, "greedy", satisfaction=satisfaction)
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order, satisfaction)


@pytest.mark.parametrize("file", FILES)
def test_greedy_no_skip_matches_pabutools_order_on_file(file):
    inst, prof = oracle.read(file)
    order = by_id(p.id for p in inst.projects).order
    assert frozenset(allocate(inst, prof, "greedy-no-skip").selected) == oracle.greedy_no_skip(inst, prof, order)


def test_greedy_with_pabutools_string_order_on_file():
    # Toulouse has ids from 1 to 3 digits: pabutools' default order ("10" < "9") must be passed to agree
    inst, prof = oracle.read("France_Toulouse_2022.pb")
    order = tuple(sorted(p.id for p in inst.projects))
    ours = allocate(inst, prof, "greedy", tie_breaking=explicit(order))
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order)


THRESHOLD_FILES = {
    # file: (our option, the threshold pabutools gets)
    "Poland_Katowice_2022_Osiedle_Witosa.pb": ({"threshold": 50}, 50),
    "Poland_Warszawa_2018_rejon_6.pb": ({"threshold_share": Fraction(1, 10)}, Fraction(2736, 10)),
    "Poland_Warszawa_2026.pb": ({"threshold": 3000}, 3000),
}


@pytest.mark.parametrize("file", sorted(THRESHOLD_FILES))
def test_greedy_threshold_matches_pabutools_and_the_city(file):
    inst, prof = oracle.read(file)
    options, threshold = THRESHOLD_FILES[file]
    order = by_id(p.id for p in inst.projects).order
    ours = allocate(inst, prof, "greedy-threshold", **options)
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order, threshold=threshold)
    below = {r.id for r in ours.projects if r.reason == BELOW_THRESHOLD}
    assert all((r.score < threshold) == (r.id in below) for r in ours.projects if r.score > 0)
    published = {p.id for p in inst.projects if p.extra.get("selected") == "1"}
    assert frozenset(ours.selected) == published  # these cities used exactly this rule


@pytest.mark.parametrize("file", FILES)
def test_greedy_threshold_share_matches_pabutools_on_file(file):
    inst, prof = oracle.read(file)
    order = by_id(p.id for p in inst.projects).order
    ours = allocate(inst, prof, "greedy-threshold", threshold_share=Fraction(1, 10))
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order, threshold=Fraction(len(prof), 10))


def test_wroclaw_no_skip_reproduces_the_city():
    inst, prof = oracle.read("Poland_Wroclaw_2018_Rejon_nr_10_250.pb")
    published = {p.id for p in inst.projects if p.extra.get("selected") == "1"}
    assert frozenset(allocate(inst, prof, "greedy-no-skip").selected) == published


# --------------------------------------------------------------------------- properties


PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = ["greedy", "greedy-no-skip"]


@PROPS
@given(elections(), st.sampled_from(["cost", "cardinality"]), st.randoms(use_true_random=False))
def test_greedy_same_as_pabutools(election, satisfaction, rnd):
    inst, prof = election
    order = [p.id for p in inst.projects]
    rnd.shuffle(order)
    ours = allocate(inst, prof, "greedy", satisfaction=satisfaction, tie_breaking=explicit(order))
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order, satisfaction)


@PROPS
@given(elections(min_cost=1), st.sampled_from(["cost", "cardinality"]))
def test_greedy_no_skip_same_as_pabutools_order(election, satisfaction):
    # zero costs excluded: pabutools ranks a free project last under Cost_Sat, we rank it by score
    inst, prof = election
    order = by_id(p.id for p in inst.projects).order
    ours = allocate(inst, prof, "greedy-no-skip", satisfaction=satisfaction)
    assert frozenset(ours.selected) == oracle.greedy_no_skip(inst, prof, order, satisfaction)


@PROPS
@given(elections(), st.integers(0, 12))
def test_greedy_threshold_same_as_pabutools(election, threshold):
    inst, prof = election
    order = by_id(p.id for p in inst.projects).order
    ours = allocate(inst, prof, "greedy-threshold", threshold=threshold)
    assert frozenset(ours.selected) == oracle.greedy(inst, prof, order, threshold=threshold)


@PROPS
@given(elections(), st.sampled_from(RULES + ["greedy-threshold"]), st.sampled_from(["cost", "cardinality"]))
def test_within_budget_and_exhaustive(election, rule, satisfaction):
    inst, prof = election
    options = {"threshold": 2} if rule == "greedy-threshold" else {}
    out = allocate(inst, prof, rule, satisfaction=satisfaction, **options)
    left = inst.budget - spent(out, inst)
    assert left >= 0 and out.total_cost == spent(out, inst)
    assert len(out.projects) == len(inst.projects)
    assert all(r.funded == (r.id in out.selected) for r in out.projects)
    if rule != "greedy-no-skip":
        # nothing eligible is left that would still fit
        s = scores(inst, prof)
        eligible = [p for p in inst.projects if s[p.id] > 0 and s[p.id] >= options.get("threshold", 0)]
        assert not [p.id for p in eligible if p.id not in out.selected and p.cost <= left]
    else:
        stops = [r for r in out.projects if r.reason == STOPPED]
        assert not stops or any(r.reason == DID_NOT_FIT for r in out.projects)


@PROPS
@given(elections(), st.sampled_from(RULES), st.randoms(use_true_random=False))
def test_deterministic_and_ballot_order_free(election, rule, rnd):
    inst, prof = election
    first = allocate(inst, prof, rule).to_dict()
    assert allocate(inst, prof, rule).to_dict() == first
    ballots = list(prof.ballots)
    rnd.shuffle(ballots)
    assert allocate(inst, Profile(prof.vote_type, tuple(ballots)), rule).to_dict() == first


def test_choose_1_counts_like_approval():
    inst = instance(10, {"1": 5, "2": 5, "3": 5})
    prof = approvals({"2"}, {"3"}, {"2"}, vote_type=VoteType.CHOOSE_1)
    assert allocate(inst, prof, "greedy").selected == ("2", "3")


def test_shuffled_project_list_changes_nothing():
    projects = list(SMALL.projects)
    random.Random(1).shuffle(projects)
    other = instance(100, {p.id: p.cost for p in projects})
    assert allocate(other, SMALL_VOTES, "greedy").selected == ("1", "3", "9")
