"""The one entry point: rules by id, the outcome record, the input hash."""

from fractions import Fraction

import pytest

from pb_engine import __version__
from pb_engine.allocation import Instance, Project, allocate, rule_ids
from pb_engine.allocation.tiebreak import by_id, explicit
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType
from pb_engine.errors import ValidationFailed

INSTANCE = Instance(Fraction(10), [Project("1", Fraction(6)), Project("2", Fraction(5)), Project("3", Fraction(4))])
BALLOTS = [ApprovalBallot(frozenset({"1"})), ApprovalBallot(frozenset({"1", "2"})), ApprovalBallot(frozenset({"3"}))]


def test_every_rule_is_registered():
    assert set(rule_ids()) >= {"greedy", "greedy-no-skip", "greedy-threshold", "max-welfare", "mes", "phragmen"}


def test_unknown_rule_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "lottery")
    assert "rule" in err.value.errors and "lottery" in err.value.message


def test_outcome_records_rule_options_tie_breaking_version_and_hash():
    out = allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "mes", completion="greedy",
                   tie_breaking=explicit(["3", "2", "1"]))
    assert out.rule == "mes"
    assert out.options == {"completion": "greedy"}  # only what was asked: no default leaks in
    assert out.tie_breaking == {"kind": "explicit", "order": ["3", "2", "1"]}
    assert out.engine_version == __version__
    assert out.input_hash.startswith("sha256:") and len(out.input_hash) == 7 + 64


def test_default_tie_breaking_orders_numeric_ids_as_numbers():
    assert by_id(["10", "9", "x", "1"]).order == ("1", "9", "10", "x")


def test_input_hash_ignores_ballot_order_but_not_content():
    h = allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "greedy").input_hash
    assert allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS[::-1]), "greedy").input_hash == h
    changed = BALLOTS[:2] + [ApprovalBallot(frozenset({"2"}))]
    assert allocate(INSTANCE, Profile(VoteType.APPROVAL, changed), "greedy").input_hash != h
    cheaper = Instance(INSTANCE.budget, [Project("1", Fraction(5)), *INSTANCE.projects[1:]])
    assert allocate(cheaper, Profile(VoteType.APPROVAL, BALLOTS), "greedy").input_hash != h


def test_input_hash_tells_ballot_shapes_apart():
    approval = Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset({"1", "2"}))])
    ranked = Profile(VoteType.ORDINAL, [OrdinalBallot(("2", "1"))])
    points = Profile(VoteType.CUMULATIVE, [CumulativeBallot.of({"1": 1, "2": 1})])
    hashes = {allocate(INSTANCE, p, "greedy").input_hash for p in (approval, ranked, points)}
    assert len(hashes) == 3


@pytest.mark.parametrize("x, expected", [
    (Fraction(7), 7), (Fraction(5, 2), "2.5"), (Fraction(-1, 20), "-0.05"), (Fraction(1, 3), "1/3"),
    (1 + Fraction(1, 2**100), "1." + str(5**100).rjust(100, "0")),  # 101 significant digits, all of them kept
])
def test_outcome_numbers_are_exact_in_json(x, expected):
    from pb_engine.allocation.outcome import number_json

    assert number_json(x) == expected
