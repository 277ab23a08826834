"""Fixtures of the rule tests: a rule registered for one test (everything about a rule derives from its
descriptor), and the exact MES engine alone (the compiled kernel switched off)."""

from __future__ import annotations

import pytest

from pb_engine.allocation.greedy import run as greedy_run
from pb_engine.allocation.registry import RULES, Option, Rule, register, unregister

DUMMY = Rule(
    id="dummy-rule", name="A test's own rule",
    description="Greedy by votes under another name, for approval ballots only.",
    ballot_kinds=("approval",),
    options=(
        Option("colour", "choice", "the colour of the dummy", default="red", choices=("red", "blue")),
        Option("dummy_weight", "number", "a weight the dummy ignores", minimum=0, maximum=5),
    ),
    exhaustive=True,
)


@pytest.fixture
def dummy_rule():
    @register(DUMMY)
    def dummy(instance, profile, options, tie):
        return greedy_run(instance, profile, options, tie, skip=True)

    yield RULES[DUMMY.id]
    unregister(DUMMY.id)
    assert DUMMY.id not in RULES


@pytest.fixture(scope="module")
def exact_engine():
    """For tests of the exact engine's own add1 loops: the compiled kernel (mes_kernel.py), which add1 uses
    when numba is installed, is switched off (it has tests of its own, test_mes_kernel.py)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PB_MES_KERNEL", "0")
        yield
