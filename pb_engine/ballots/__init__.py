"""Ballot kinds, their limits and validation. Pure domain: no Flask, no SQLModel."""

from pb_engine.ballots.kinds import (  # noqa: F401
    ApprovalBallot,
    Ballot,
    CumulativeBallot,
    OrdinalBallot,
    Profile,
    VoteType,
)
