"""Random elections of every vote type, written as .pb text and read back: nothing changes."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb_engine import pabulib
from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType

ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_/", min_size=1, max_size=6)
# Any text, but leading/trailing whitespace is not significant in a .pb file.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25).map(str.strip)
WORD = st.text("abcdefghijklmnopqrstuvwxyz ąęłó&'()-", min_size=1, max_size=12).map(str.strip).filter(
    lambda s: s and s.lower() != "none")
MONEY = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False).map(
    lambda d: Fraction(str(d)))
COLUMN = st.sampled_from(["votes", "score", "selected", "description", "latitude", "district", "x_custom"])
VOTER_COLUMN = st.sampled_from(["age", "sex", "district", "voting_method", "neighborhood", "education"])


@st.composite
def elections(draw):
    vote_type = draw(st.sampled_from(list(VoteType)))
    ids = draw(st.lists(ID, min_size=1, max_size=8, unique=True))
    extra_cols = draw(st.lists(COLUMN, unique=True, max_size=3))
    projects = tuple(
        Project(
            id=pid,
            cost=draw(MONEY),
            name=draw(TEXT),
            categories=tuple(draw(st.lists(WORD, max_size=3, unique=True))),
            extra={c: draw(TEXT) for c in extra_cols},
        )
        for pid in ids
    )
    budget = draw(MONEY)
    meta = {k: draw(TEXT) for k in draw(st.lists(st.sampled_from(
        ["description", "country", "unit", "instance", "rule", "comment", "currency", "acknowledgments"]),
        unique=True, max_size=5))}
    meta["budget"] = pabulib.format_number(budget)
    meta["vote_type"] = vote_type.value
    instance = Instance(budget, projects, meta)

    n = draw(st.integers(0, 12))
    ballots = []
    for _ in range(n):
        subset = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
        if vote_type in (VoteType.APPROVAL, VoteType.CHOOSE_1):
            ballots.append(ApprovalBallot(frozenset(subset[:1] if vote_type is VoteType.CHOOSE_1 else subset)))
        elif vote_type is VoteType.ORDINAL:
            ballots.append(OrdinalBallot(tuple(subset)))
        else:
            low = 0 if vote_type is VoteType.CUMULATIVE else -5
            ballots.append(CumulativeBallot.of({p: draw(st.integers(low, 100)) for p in subset}))
    voter_cols = draw(st.lists(VOTER_COLUMN, unique=True, max_size=3))
    voter_ids = draw(st.lists(ID, min_size=n, max_size=n, unique=True))
    voters = tuple({"voter_id": vid, **{c: draw(TEXT) for c in voter_cols}} for vid in voter_ids)
    return instance, Profile(vote_type, tuple(ballots), voters)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.sampled_from(["\n", "\r\n"]))
def test_written_then_parsed_is_equal(election, newline):
    instance, profile = election
    pb = pabulib.PabulibFile.from_election(instance, profile, newline=newline)
    text = pabulib.dumps(pb)
    back = pabulib.parse(text)
    assert back.instance.budget == instance.budget
    assert back.instance.meta == instance.meta
    assert back.instance.projects == instance.projects
    assert back.profile.vote_type == profile.vote_type
    assert back.profile.ballots == profile.ballots
    assert [dict(v) for v in back.profile.voters] == [dict(v) for v in profile.voters]
    assert back.project_columns == pb.project_columns and back.vote_columns == pb.vote_columns
    assert pabulib.dumps(back) == text
    assert pabulib.dumps(back, preserve=False) == text
