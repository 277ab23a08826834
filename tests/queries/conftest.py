"""Fixtures of the read-model tests; their world is built by query_world.build."""

import pytest

from query_world import Statements, build


@pytest.fixture
def world(db):
    return build(db)


@pytest.fixture
def statements():
    return Statements
