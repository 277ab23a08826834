"""The shapes a vote can take, shared by the voting path, Pabulib files and the rules.

Pabulib's five vote types map onto three ballot shapes:
- approval, choose-1 (and our knapsack ballots): a set of project ids;
- cumulative, scoring: points per project;
- ordinal (our ranked ballots): an ordered tuple of project ids, best first.
Project ids are strings everywhere (Pabulib ids are not always numeric).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping, Sequence, Union


class VoteType(str, Enum):
    APPROVAL = "approval"
    CHOOSE_1 = "choose-1"
    CUMULATIVE = "cumulative"
    SCORING = "scoring"
    ORDINAL = "ordinal"

    @property
    def shape(self) -> type:
        return {
            VoteType.APPROVAL: ApprovalBallot,
            VoteType.CHOOSE_1: ApprovalBallot,
            VoteType.CUMULATIVE: CumulativeBallot,
            VoteType.SCORING: CumulativeBallot,
            VoteType.ORDINAL: OrdinalBallot,
        }[self]


@dataclass(frozen=True, slots=True)
class ApprovalBallot:
    projects: frozenset[str]

    def supported(self) -> frozenset[str]:
        return self.projects

    def only(self, ids: frozenset[str] | set[str]) -> "ApprovalBallot":
        """The ballot without projects outside `ids` (e.g. withdrawn after it was cast)."""
        return self if self.projects <= ids else ApprovalBallot(self.projects & ids)


@dataclass(frozen=True, slots=True)
class CumulativeBallot:
    # A tuple of (project id, points) pairs keeps the ballot hashable; use `.as_dict()` to read.
    points: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, points: Mapping[str, int]) -> "CumulativeBallot":
        return cls(tuple(sorted((str(k), int(v)) for k, v in points.items())))

    def as_dict(self) -> dict[str, int]:
        return dict(self.points)

    def supported(self) -> frozenset[str]:
        return frozenset(p for p, n in self.points if n > 0)

    def only(self, ids: frozenset[str] | set[str]) -> "CumulativeBallot":
        return CumulativeBallot(tuple(pn for pn in self.points if pn[0] in ids))


@dataclass(frozen=True, slots=True)
class OrdinalBallot:
    ranking: tuple[str, ...]  # best first

    def supported(self) -> frozenset[str]:
        return frozenset(self.ranking)

    def only(self, ids: frozenset[str] | set[str]) -> "OrdinalBallot":
        return OrdinalBallot(tuple(p for p in self.ranking if p in ids))


Ballot = Union[ApprovalBallot, CumulativeBallot, OrdinalBallot]


@dataclass(frozen=True)
class Profile:
    """All ballots of one district, of one vote type, in a stable order.

    `voters` optionally carries per-ballot voter metadata (Pabulib's extra voter
    columns such as age or sex), aligned with `ballots`; it never names a person.
    """

    vote_type: VoteType
    ballots: Sequence[Ballot]
    voters: Sequence[Mapping[str, str]] = field(default=())

    def __len__(self) -> int:
        return len(self.ballots)
