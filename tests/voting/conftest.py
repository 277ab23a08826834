"""Fixtures of the voting tests; the round they vote in is built by voting_world.build."""

import pytest

from voting_world import build


@pytest.fixture
def world(db):
    return build(db)
