"""Utilities, scores and satisfaction weights shared by the greedy, max-welfare and Phragmén rules."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pabutools.election import OrdinalBallot as PbOrdinalBallot
from pabutools.election import Project as PbProject
from pabutools.election.satisfaction.positionalsatisfaction import borda_sat_func

import oracle
from examples import approvals, cumulative, instance, ordinal
from pb_engine.allocation.explain import number
from pb_engine.allocation.instance import Project
from pb_engine.allocation.satisfaction import (
    borda, check_satisfaction, score_unit, scores, support_sets, total_welfare, utility, weight,
)
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, VoteType
from pb_engine.errors import ValidationFailed


def test_utility_per_ballot_shape():
    assert utility(ApprovalBallot(frozenset({"1", "2"}))) == {"1": 1, "2": 1}
    assert utility(CumulativeBallot.of({"1": 3, "2": 0})) == {"1": 3, "2": 0}
    assert utility(OrdinalBallot(("3", "1", "2"))) == {"3": 2, "1": 1, "2": 0}


def test_borda_is_pabutools_variant():
    assert borda(["a"]) == {"a": 0}                       # a one-project ranking gives nothing
    assert borda(["a", "b", "c"]) == {"a": 2, "b": 1, "c": 0}


@given(st.lists(st.sampled_from("abcdefgh"), unique=True, min_size=1))
def test_borda_equals_pabutools_borda(ranking):
    projects = {pid: PbProject(pid) for pid in ranking}
    ballot = PbOrdinalBallot([projects[pid] for pid in ranking])
    assert borda(ranking) == {pid: borda_sat_func(ballot, projects[pid]) for pid in ranking}


def test_scores_count_votes_points_and_borda_only_for_instance_projects():
    inst = instance(10, {"a": 1, "b": 2})
    assert scores(inst, approvals({"a", "b"}, {"a", "zz"}, set())) == {"a": 2, "b": 1}
    assert scores(inst, cumulative({"a": 3, "b": 1}, {"b": 4})) == {"a": 3, "b": 5}
    assert scores(inst, ordinal(("b", "a"), ("a", "b"), ("a",))) == {"a": 1, "b": 1}


def test_support_sets_group_identical_ballots():
    inst = instance(10, {"a": 1, "b": 2})
    sets = support_sets(inst, approvals({"a"}, {"a"}, {"a", "b", "zz"}, set()))
    assert sets == {frozenset({"a"}): 2, frozenset({"a", "b"}): 1, frozenset(): 1}


def test_weights_and_welfare():
    p = Project("a", Fraction(150))
    assert weight(p, "cost") == 150 and weight(p, "cardinality") == 1
    q = Project("b", Fraction(5, 2))
    assert total_welfare([p, q], {"a": 2, "b": 4}, "cost") == 310
    assert total_welfare([p, q], {"a": 2, "b": 4}, "cardinality") == 6


def test_check_satisfaction():
    assert check_satisfaction(None, "cost") == "cost"
    assert check_satisfaction("cardinality", "cost") == "cardinality"
    with pytest.raises(ValidationFailed) as err:
        check_satisfaction("utility", "cost")
    assert "satisfaction" in err.value.errors


def test_score_units():
    assert score_unit(VoteType.CHOOSE_1, 1) == "vote"
    assert score_unit(VoteType.APPROVAL, 3) == "votes"
    assert score_unit(VoteType.SCORING, 3) == "points"
    assert score_unit(VoteType.ORDINAL, 3) == "Borda points"


@pytest.mark.parametrize("x, text", [
    (120000, "120 000"), (0, "0"), (Fraction(24186815), "24 186 815"), (Fraction("1234.5"), "1 234.5"),
    (Fraction(1, 3), "≈ 0.33"), (Fraction(-5, 2), "-2.5"), (Fraction(200, 3), "≈ 66.67"),
])
def test_number_formatting(x, text):
    assert number(x) == text


SMALL_FILES = [f.name for f in oracle.pabulib_files() if oracle.ballots_in(f) <= oracle.COMPRESS_ABOVE]


@pytest.mark.parametrize("file", SMALL_FILES)
def test_scores_equal_pabutools_on_file(file):
    inst, prof = oracle.read(file)
    assert scores(inst, prof) == oracle.scores(inst, prof)


@pytest.mark.parametrize("file", ["Poland_Warszawa_2018_rejon_6.pb", "Poland_Katowice_2022_Osiedle_Witosa.pb"])
def test_oracle_compression_keeps_pabutools_totals(file):
    # the oracle feeds pabutools compressed profiles on large files; check that on mid-sized ones
    inst, prof = oracle.read(file)
    sat = oracle.sat_class(prof.vote_type, "cost")
    totals = []
    for compress in (False, True):
        e = oracle.to_pabutools(inst, prof, compress=compress)
        sats = e.profile.as_sat_profile(sat)
        totals.append({pid: sats.total_satisfaction_project(p) for pid, p in e.project.items()})
    assert totals[0] == totals[1]
    assert {pid: t / inst.project(pid).cost for pid, t in totals[0].items()} == scores(inst, prof)
