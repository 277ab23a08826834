"""Allocation rules. Pure domain: no Flask, no SQLModel, no marshmallow.

    from pb_engine.allocation import allocate
    outcome = allocate(instance, profile, "mes", satisfaction="cost", completion="add1")

Importing this package registers every rule: the modules in RULE_MODULES are
imported here, after the registry they register into (a new rule adds its module's
name to the tuple; see `registry.py`).
"""

from importlib import import_module

from pb_engine.allocation.instance import Instance, Project  # noqa: F401
from pb_engine.allocation.outcome import Outcome, ProjectResult  # noqa: F401
from pb_engine.allocation.registry import (  # noqa: F401
    RULES, Option, Rule, RuleOptions, allocate, describe, register, rule_ids, rules,
)
from pb_engine.allocation.tiebreak import TieBreaking  # noqa: F401

RULE_MODULES = ("greedy", "mes", "phragmen", "welfare", "ees", "bos")

for _name in RULE_MODULES:
    import_module(f"{__name__}.{_name}")
