"""A round's rule settings (`RuleSpec.from_dict`): every refusal names its key; a good spec runs its rule."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb_engine.allocation import allocate
from pb_engine.allocation.spec import RuleSpec

from examples import approvals, instance


@pytest.mark.parametrize("data, key, fragment", [
    ({"id": "greedy", "colour": "red"}, "rule.colour", "unknown key"),
    ({"id": "lottery"}, "rule.id", "unknown rule 'lottery'"),
    ({"satisfaction": "cost"}, "rule.id", "unknown rule None"),
    ({"id": "mes", "satisfaction": "happiness"}, "rule.satisfaction", "must be one of cost, cardinality"),
    ({"id": "mes", "completion": "add2"}, "rule.completion", "must be one of add1, add1-comparison, greedy"),
    ({"id": "greedy", "completion": "add1"}, "rule.completion", "greedy takes no completion (it is an option of "),
    ({"id": "max-welfare", "solver": "gurobi"}, "rule.solver", "must be one of cbc, highs"),
    ({"id": "greedy-threshold", "threshold": "ten"}, "rule.threshold", "must be a number"),
    ({"id": "greedy-threshold", "threshold": True}, "rule.threshold", "must be a number"),
    ({"id": "greedy-threshold", "threshold": -1}, "rule.threshold", "must be zero or more"),
    ({"id": "greedy-threshold", "threshold_share": 1.5}, "rule.threshold_share", "must be between 0 and 1"),
    ({"id": "greedy-threshold"}, "rule.threshold", "needs threshold or threshold_share"),
])
def test_bad_settings_name_the_key(data, key, fragment):
    spec, problems = RuleSpec.from_dict(data)
    assert spec is None
    assert any(k == key and fragment in m for k, m in problems), problems


def test_good_spec_round_trips_and_runs_its_rule():
    spec, problems = RuleSpec.from_dict({"id": "greedy-threshold", "threshold_share": 0.5}, prefix="rounds.x.rule")
    assert not problems and spec.threshold_share == Fraction(1, 2)
    assert spec.to_dict() == {"id": "greedy-threshold", "threshold_share": 0.5}
    assert RuleSpec.from_dict(spec.to_dict())[0] == spec
    inst, prof = instance(10, {"a": 5, "b": 5}), approvals({"a"}, {"a", "b"}, {"a"})
    assert spec.run(inst, prof) == allocate(inst, prof, "greedy-threshold", threshold_share=Fraction(1, 2))
    assert spec.run(inst, prof).selected == ("a",)  # b: 1 vote, under half of 3 ballots
