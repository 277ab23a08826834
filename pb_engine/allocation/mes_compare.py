"""The comparison step of `completion="add1-comparison"` (Wieliczka 2023, "Zielony Milion").

Definition, from the reference implementation used for that vote, the
equalshares.net compute tool (github.com/equalshares/equalshares-compute-tool,
js/methodOfEqualSharesWorker.js: `equalShares`, `comparisonStep`,
`utilitarianCompletion`; options `completion=add1`, `comparison=satisfaction`,
add1 option `exhaustive` off):

1. Compute MES with the add1 completion. The tool's add1 stops only when the
   next raise of the per-voter budget would go over the budget (its
   `exhaustive` early stop is an option, off here). With the early stop,
   Wieliczka gives 31 projects (pabutools' `voter_budget_increment=1` does
   that too); without it, exactly the 30 projects the city funded.
2. Compute the greedy outcome: projects by number of votes (most first; ties
   by the tie-breaking order), skipping any that does not fit in what is left.
3. Once, at the end (not at every add1 step): each voter compares the two
   outcomes. `satisfaction`: a voter prefers the outcome that funds more of
   the projects she voted for; `exclusionRatio`: a voter prefers the outcome
   that funds at least one of her projects when the other funds none. Voters
   with equal counts prefer neither and are not counted.
4. The greedy outcome replaces MES only if strictly more voters prefer it than
   prefer MES; a tie keeps MES.

On Wieliczka 2023, MES is kept (more voters prefer it), as published.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pb_engine.allocation.mes import COMPARISONS, greedy_fill


@dataclass(frozen=True)
class Verdict:
    comparison: str
    prefer_mes: int
    prefer_greedy: int
    greedy: tuple[int, ...]        # the greedy outcome, in funding order (project indices)

    @property
    def greedy_wins(self) -> bool:
        return self.prefer_greedy > self.prefer_mes

    @property
    def note(self) -> str:
        kept = "replaced by the greedy outcome" if self.greedy_wins else "kept"
        return (f"comparison ({self.comparison}): {self.prefer_mes} voter(s) prefer the MES outcome, "
                f"{self.prefer_greedy} the greedy outcome by votes; MES {kept}")


def greedy_by_votes(prep, rank) -> list[int]:
    """The greedy outcome: what the greedy completion would add to an empty selection."""
    return greedy_fill(prep, [], rank)[0]


def _funded_counts(prep, selected) -> np.ndarray:
    """Per ballot group: how many of the projects it supports are in `selected`."""
    P = prep.problem
    counts = np.zeros(len(P.mult), dtype=np.int64)
    for c in selected:
        np.add.at(counts, P.supporters[c], 1)
    return counts


def compare_with_greedy(prep, mes_selected, rank, comparison: str = "satisfaction") -> Verdict:
    from pb_engine.errors import ValidationFailed

    if comparison not in COMPARISONS:
        raise ValidationFailed.field("comparison", f"must be one of {', '.join(COMPARISONS)}")
    greedy = greedy_by_votes(prep, rank)
    a = _funded_counts(prep, mes_selected)
    b = _funded_counts(prep, greedy)
    if comparison == "exclusionRatio":
        a, b = (a > 0).astype(np.int64), (b > 0).astype(np.int64)
    mult = prep.problem.mult
    prefer_mes = int(mult[a > b].sum())
    prefer_greedy = int(mult[b > a].sum())
    return Verdict(comparison, prefer_mes, prefer_greedy, tuple(greedy))
