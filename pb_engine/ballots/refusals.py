"""Every refusal a voter can meet, as a stable code with its figures, for words chosen at the edge.

The domain raises each refusal with its English message (the JSON API and the CLI show it, and
tests pin it) and, beside it, a `pb_engine.errors.Problem(field, code, message, params)`. A page
in another language words `code` from its catalogue and fills in `params`; so the web layer needs
a translation for every code listed here, and a test checks it has one.

Params are figures, never preformatted text: counts and points are ints, money is an int (or a
Fraction) of minor units of the round's currency, shares are Fractions, dates are aware datetimes
(UTC; show them in the city's time zone, named by `timezone`), project ids are strings, district
and round slugs are strings. A value the voter sent that is not what we expected (`value`, `got`)
is given as text: `repr` of the value, or the name of its JSON type.

`Refusals` collects a ballot's problems and raises them all at once; `refusal()` builds one
voting-path error. Both check the code and its params against the lists below, so the lists
cannot drift from what is raised.
"""

from __future__ import annotations

from typing import Any, Mapping

from pb_engine.errors import PBError, Problem, ValidationFailed

# Refusals of a ballot's content (pb_engine.ballots.validation and the kinds in ballots.registry).
BALLOT_PROBLEMS: dict[str, tuple[str, ...]] = {
    # shape of the JSON content
    "ballot_not_object": ("kind", "got"),                 # content is not an object; got: JSON type name
    "field_not_allowed": ("kind", "name"),                # a key other than the kind's field
    "field_missing": ("kind", "name"),                    # the kind's field (projects/points/ranking) is absent
    "not_a_list": ("field", "got"),                       # projects / ranking is not a list
    "points_not_object": ("got",),                        # points is not an object
    "not_a_project_id": ("field", "index", "value"),      # list entry at index (from 0) is not an id
    "points_key_not_a_project_id": ("value",),            # a key of points is not an id
    "chosen_twice": ("project",),
    "ranked_twice": ("project", "first", "second"),       # positions from 1
    "points_given_twice": ("project",),
    "points_not_whole": ("project", "value"),
    "points_not_positive": ("project", "points"),
    # projects of this ballot
    "not_on_ballot": ("project", "district"),
    "on_other_ballot": ("project", "district", "other_district"),
    # limits (BallotRules)
    "too_few_projects": ("chosen", "min"),                # approval, knapsack
    "too_many_projects": ("chosen", "max"),
    "over_budget": ("total", "budget", "excess"),         # knapsack; minor units
    "under_min_spend": ("total", "minimum", "share", "budget", "shortfall"),  # minimum = ceil(share * budget)
    "too_few_projects_with_points": ("projects", "min"),  # cumulative: projects given points
    "too_many_projects_with_points": ("projects", "max"),
    "too_many_points": ("given", "max"),
    "too_many_points_on_project": ("project", "points", "max"),
    "ranking_too_short": ("ranked", "min"),
    "ranking_too_long": ("ranked", "max"),
    "ranking_has_duplicates": (),
    # the whole refusal (PBError.reason) when a ballot breaks several rules at once
    "ballot_refused": ("count",),
}

# Refusals on the voting path (pb_engine.voting): phase, who votes, where, how.
VOTING_PROBLEMS: dict[str, tuple[str, ...]] = {
    "no_voting_phase": ("round",),
    # phase: the round's current phase (pb_engine.phases: a phase name, "upcoming", "closed" or
    # "after_<phase>" in a gap); phase_starts_at / phase_ends_at: its window, None when it has none.
    # channel: "online" or "paper" (paper ballots are taken during voting and tally).
    "voting_not_open": ("opens_at", "closes_at", "timezone", "channel", "phase", "phase_starts_at", "phase_ends_at"),
    "voting_closed": ("opens_at", "closes_at", "timezone", "channel", "phase", "phase_starts_at", "phase_ends_at"),
    "ballot_settings_invalid": ("round",),
    "voter_credentials_missing": (),                      # neither an access code nor a resident
    "paper_voter_missing": (),                            # staff entered a paper ballot naming no voter
    "access_code_not_text": (),
    "access_code_wrong_length": ("length", "got"),        # characters expected, characters given
    "access_code_bad_characters": ("characters",),        # list of the characters no code contains
    "access_code_typo": (),                               # the check character does not match
    "access_code_unknown": ("round",),
    "resident_unknown": (),
    "method_not_accepted": ("round", "method", "accepted"),  # method: access_code | resident; accepted: list
    "resident_not_verified": (),
    "code_for_other_district": ("district", "code_district"),
    "not_your_district": ("district", "own_district"),
    "already_voted_elsewhere": ("district", "voted_district"),
    "voted_on_paper": (),                                 # cannot also vote online
    "voted_online": (),                                   # a paper ballot cannot be added
    "voter_session_expired": (),
    "voter_session_invalid": (),
    "voter_of_another_round": (),
    # access codes and paper ballots in the staff console (pb_engine.codes, pb_engine.paper)
    "access_code_revoked": (),                            # the city revoked the code: it opens nothing
    "access_code_already_revoked": (),                    # revoking a code twice
    "access_code_used": (),                               # a code that voted cannot be revoked
    "batch_unknown": ("batch",),
    "batch_printed": ("batch",),                          # its clear codes were wiped when it was marked printed
    "batch_unsealable": ("batch",),                       # the app's secret key changed since it was sealed
    "paper_entry_unknown": (),
    "paper_entry_closed": (),                             # already counted or discarded
    # voter secrecy and one person, one ballot (pb_engine.secrecy, pb_engine.code_binding)
    "sign_in_closed": ("round",),                         # voting has closed: a code or account opens nothing
    "access_code_claimed": (),                            # the code is bound to another resident account
    "access_code_voted_unbound": (),                      # the code voted without an account: it cannot be claimed
}

REFUSALS: dict[str, tuple[str, ...]] = {**BALLOT_PROBLEMS, **VOTING_PROBLEMS}
assert len(REFUSALS) == len(BALLOT_PROBLEMS) + len(VOTING_PROBLEMS), "a code is listed twice"

# What a param holds, where its name alone does not say, so the edge formats it without guessing:
MONEY_PARAMS = frozenset({"total", "budget", "excess", "minimum", "shortfall"})  # minor units of the city's currency
SHARE_PARAMS = frozenset({"share"})                                                # a Fraction of 1: show as a percent
DATE_PARAMS = frozenset({"opens_at", "closes_at", "phase_starts_at", "phase_ends_at"})  # aware datetimes, or None


def _checked(code: str, params: Mapping[str, Any], listed: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    if code not in listed:
        raise KeyError(f"refusal code {code!r} is not listed in pb_engine.ballots.refusals")
    if set(params) != set(listed[code]):
        raise TypeError(f"refusal {code!r} takes params {listed[code]}, got {tuple(params)}")
    return dict(params)


class Refusals:
    """A ballot's problems, collected so every rule broken is reported at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.problems: list[Problem] = []

    def add(self, field: str, code: str, message: str, /, **params: Any) -> None:
        self.problems.append(Problem(field, code, message, _checked(code, params, BALLOT_PROBLEMS)))
        self.errors.setdefault(field, []).append(message)

    def extend(self, other: "Refusals") -> None:
        for p in other.problems:
            self.add(p.field, p.code, p.message, **p.params)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        message = "; ".join(m for ms in self.errors.values() for m in ms)
        if len(self.problems) == 1:
            reason, params = self.problems[0].code, self.problems[0].params
        else:
            reason, params = "ballot_refused", {"count": len(self.problems)}
        raise ValidationFailed(message, {k: list(v) for k, v in self.errors.items()}, problems=list(self.problems),
                               reason=reason, params=params)


def refusal(cls: type[PBError], field: str, code: str, message: str, /, *, errors: bool = True,
            **params: Any) -> PBError:
    """One voting-path refusal of class `cls`; `errors=False` keeps the JSON `errors` empty as it was."""
    params = _checked(code, params, VOTING_PROBLEMS)
    return cls(message, {field: [message]} if errors else None, problems=[Problem(field, code, message, params)],
               reason=code, params=params)
