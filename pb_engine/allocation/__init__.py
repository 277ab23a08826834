"""Allocation rules. Pure domain: no Flask, no SQLModel, no marshmallow.

    from pb_engine.allocation import allocate
    outcome = allocate(instance, profile, "mes", satisfaction="cost", completion="add1")
"""

from pb_engine.allocation.instance import Instance, Project  # noqa: F401
from pb_engine.allocation.outcome import Outcome, ProjectResult  # noqa: F401
from pb_engine.allocation.registry import RULES, RuleOptions, allocate, register, rule_ids  # noqa: F401
from pb_engine.allocation.tiebreak import TieBreaking  # noqa: F401
