"""Domain words at the edge: refusals, phases, statuses and outcome reasons in the visitor's language.

The domain raises refusals with codes and values (pb_engine.errors.Problem) and explains outcomes
with reason codes and figures (pb_engine.allocation.outcome); this module words them. English
pages show the domain's own English sentence; other languages word the code from the catalogue,
and a code without words here falls back to the English sentence looked up in the catalogue, so
the strict i18n test reports it as a miss instead of letting English through unnoticed.
"""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction
from typing import Any, Mapping

from api.context import scope_city
from api.i18n import _, current, datetime_text, money, money_major, ngettext, number, percent
from pb_engine.errors import PBError, Problem

# --- names -----------------------------------------------------------------------------


def _code(code: str) -> str:
    """A code these tables do not word: looked up as it is, so the strict i18n test reports it (never the header)."""
    return _(code) if code else code


def phase_name(phase: str) -> str:
    names = {
        "upcoming": _("coming soon"), "submission": _("sending ideas"), "endorsement": _("collecting support"),
        "review": _("under review"), "voting": _("voting open"), "tally": _("counting"), "results": _("results"),
        "implementation": _("being built"), "closed": _("closed"),
    }
    if phase.startswith("after_"):
        return _("after %(phase)s", phase=names.get(phase[len("after_"):]) or _code(phase[len("after_"):]))
    return names.get(phase) or _code(phase)  # an unknown code is looked up, so the strict i18n test names it


def phase_title(phase: str) -> str:
    """A phase as a timeline step."""
    return {
        "submission": _("Ideas"), "endorsement": _("Endorsements"), "review": _("Review by the city"),
        "voting": _("Voting"), "tally": _("Counting"), "results": _("Results"),
        "implementation": _("Implementation"),
    }.get(phase) or _code(phase)


def status_name(status: str) -> str:
    return {
        "submitted": _("submitted"), "endorsed": _("endorsed"), "under_review": _("under review"),
        "on_ballot": _("on the ballot"), "rejected": _("not feasible"), "withdrawn": _("withdrawn"),
        "funded": _("funded"), "not_funded": _("not funded"), "merged": _("merged into another idea"),
    }.get(status) or _code(status)


def status_reason(reason: str) -> str:
    return {
        "submitted": _("sent by its author"), "entered_by_staff": _("entered by city staff for residents"),
        "threshold_reached": _("reached the endorsements needed for review"),
        "review": _("decided in the city's review"), "outcome_published": _("decided by the published vote count"),
        "recorded": _("status when the history began"),
        "merged": _("merged by the city into another idea with the same aim"),
        "merge_received": _("a duplicate idea was merged into this one"),
        "imported": _("imported from the round's published Pabulib file"),
    }.get(reason) or _code(reason)


def response_kind(kind: str) -> str:
    return {"answer": _("Answer from the city"), "review": _("Review note"),
            "progress": _("Progress update")}.get(kind) or _code(kind)


def author_name(author: str) -> str:
    if author == "entered by staff on behalf of residents":
        return _("entered by city staff for residents")
    if author == "voter":
        return _("a voter")
    if author == "resident":
        return _("a resident")
    return author


def ballot_kind_name(kind: str) -> str:
    return {"approval": _("approval ballot"), "knapsack": _("budget ballot"), "cumulative": _("points ballot"),
            "ranked": _("ranking ballot")}.get(kind) or _code(kind)


def rule_name(rule_id: str) -> str:
    return {
        "greedy": _("most votes first"), "greedy-threshold": _("most votes first, with a minimum of votes"),
        "greedy-no-skip": _("most votes first, stopping at the first that does not fit"),
        "max-welfare": _("greatest total satisfaction"), "mes": _("method of equal shares"),
        "phragmen": _("sequential Phragmén"), "official": _("the city's official rule"),
        "ees": _("exact equal shares"), "bos": _("equal shares with bounded overspending"),
    }.get(rule_id) or _code(rule_id)


def term_name(term: str) -> str:
    """A shared category (pb_engine.taxonomy) in the visitor's language (the comparison and proposals pages)."""
    return {
        "transport": _("transport"), "environment": _("environment and greenery"), "education": _("education"),
        "culture": _("culture"), "sport": _("sport and recreation"), "health": _("health and care"),
        "social": _("community and inclusion"), "safety": _("safety"), "public-space": _("public space"),
        "infrastructure": _("infrastructure"), "digital": _("digital services"), "other": _("other"),
        "uncategorised": _("no category"), "unmapped": _("not mapped to a shared category"),
    }.get(term, term)

def _sep() -> str:
    """Between two sentences: a space in English, none after Chinese full stops."""
    return "" if current() == "zh_TW" else " "


def rule_plain(rule: Mapping[str, Any]) -> str:
    """How winners are chosen, in one or two plain sentences."""
    rid = rule.get("id", "")
    texts = {
        "greedy": _("Projects are funded in order of their votes, most first; a project that no longer fits in "
                    "the money left is skipped and the next one is tried."),
        "greedy-threshold": _("Projects are funded in order of their votes, most first, but only those with at "
                              "least the minimum number of votes; a project that does not fit is skipped."),
        "greedy-no-skip": _("Projects are funded in order of their votes, most first, until the first project "
                            "that does not fit in the money left."),
        "max-welfare": _("The city funds the combination of projects, within the budget, that gives voters the "
                         "greatest total satisfaction."),
        "mes": _("The budget is shared out equally among the voters. A project is funded when its supporters can "
                 "pay for it together from their shares, cheapest per supporter first, so every group of voters "
                 "gets a fair part of the budget."),
        "phragmen": _("Voters' support is counted as load they carry: projects are funded one by one so that the "
                      "highest load any voter carries grows as little as possible."),
        "ees": _("The budget is shared out equally among the voters. A project is funded when a group of its "
                 "supporters can split its cost exactly equally; supporters who cannot pay their share pay nothing."),
        "bos": _("As in the method of equal shares, the budget is shared out equally among the voters; a project "
                 "its supporters can pay only part of may still be funded, the rest coming from the budget, when "
                 "that part is bought cheaply enough."),
    }
    text = texts.get(rid, rule_name(rid))
    completion = rule.get("completion")
    if (rid == "mes" and completion in ("add1", "add1-comparison")) or (
            rid == "ees" and completion in ("add-opt", "add-opt-skip")):
        text += _sep() + _("If money is left, each voter's share is raised step by step until the budget is used as "
                        "fully as possible.")
    elif rid == "mes" and completion == "greedy":
        text += _sep() + _("Money left at the end goes to the remaining projects with the most votes.")
    return text


def ballot_plain(kind: str, rules, budget_text: str) -> str:
    """How to vote, in plain words, with the limits."""
    if kind == "knapsack":
        text = _("Choose projects whose costs add up to no more than the budget of %(budget)s.", budget=budget_text)
        if rules.min_spend_share:
            text += _sep() + _("Your choice must use at least %(share)s of the budget.",
                            share=percent(float(rules.min_spend_share)))
    elif kind == "cumulative":
        text = _("Spread %(points)s points over the projects you support.", points=number(rules.max_points or 10))
        if rules.max_points_per_project:
            text += _sep() + _("At most %(n)s points on one project.", n=number(rules.max_points_per_project))
    elif kind == "ranked":
        text = _("Rank the projects you support, best first.")
        if rules.max_rank:
            text += _sep() + _("Rank at most %(n)s.", n=number(rules.max_rank))
    else:
        text = _("Choose the projects you support.")
        if rules.max_projects:
            text += _sep() + ngettext("You may choose %(num)s project.", "You may choose up to %(num)s projects.",
                                   rules.max_projects)
    if rules.min_projects and kind != "ranked":
        text += _sep() + ngettext("Choose at least %(num)s project.", "Choose at least %(num)s projects.",
                               rules.min_projects)
    return text


# --- refusals ----------------------------------------------------------------------------

def _fmt(name: str, value: Any, params: Mapping[str, Any]) -> str:
    from pb_engine.ballots.refusals import DATE_PARAMS, MONEY_PARAMS, SHARE_PARAMS

    if value is None:
        return "–"
    if name in DATE_PARAMS and isinstance(value, datetime):
        return datetime_text(value, params.get("timezone"), "short")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in MONEY_PARAMS and isinstance(value, (int, Fraction)):
        city = scope_city()
        return money(round(value), city.currency) if city is not None else number(value)
    if name in SHARE_PARAMS:
        return percent(float(value) if isinstance(value, Fraction) else value)  # Babel reads no Fractions
    if name == "phase" and isinstance(value, str):
        return phase_name(value)
    if name == "channel":
        return _("online") if value == "online" else _("on paper")
    if isinstance(value, Fraction):
        return number(float(value))
    if isinstance(value, int):
        return number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def problem_text(problem: Problem) -> str:
    """One refusal in the visitor's language: the catalogue's words for its code, else its sentence."""
    template = PROBLEM_WORDS.get(problem.code) if problem.code else None
    if template is None:
        return word(problem.message)
    values = {k: _fmt(k, v, problem.params) for k, v in problem.params.items()}
    titles = _titles()
    if "project" in values and values["project"] in titles:
        values["project"] = titles[values["project"]]
    try:
        return template() % values
    except (KeyError, TypeError, ValueError):
        return word(problem.message)


def _titles() -> dict[str, str]:
    """Project titles of the page's ballot (set by the booth), so refusals name a project as voters see it."""
    from flask import g

    return g.get("pb_project_titles", {})


def describe(err: PBError) -> str:
    """The whole refusal as one sentence (or a few) for a page."""
    if err.problems:
        return _sep().join(dict.fromkeys(problem_text(p) for p in err.problems))
    if err.reason and err.reason in PROBLEM_WORDS:
        return problem_text(Problem("", err.reason, err.message, err.params))
    return word(err.message)


def field_errors(err: PBError) -> dict[str, list[str]]:
    """{field: [messages]} in the visitor's language, to show beside each input."""
    if err.problems:
        out: dict[str, list[str]] = {}
        for p in err.problems:
            out.setdefault(p.field, []).append(problem_text(p))
        return out
    if current() == "en":
        return {k: [str(m) for m in v] for k, v in err.errors.items()}
    return {k: [word(str(m)) for m in v] for k, v in err.errors.items()}



# --- English sentences from the domain ----------------------------------------------------
# Refusals raised without a code (accounts, proposals, look-ups, amounts) carry only the domain's
# English sentence (the JSON API's message). These patterns word the ones a resident can meet on a
# page; a sentence matching none is looked up as it is, so the strict i18n test reports it as a miss.

def _q(value: str) -> str:
    """A slug or name as the domain quoted it with repr()."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def _budget_words(v):
    city = scope_city()
    budget = money(int(v["minor"]), city.currency) if city is not None else number(int(v["minor"]))
    return _("More than the district's budget of %(budget)s.", budget=budget)


_Q = r"(?:'[^']*'|\"[^\"]*\")"
DOMAIN_SENTENCES: list[tuple[re.Pattern, Any]] = [(re.compile(p), f) for p, f in [
    (rf"no city (?P<city>{_Q})", lambda v: _("There is no city “%(city)s”.", city=_q(v["city"]))),
    (rf"no round (?P<round>{_Q}) in city {_Q}", lambda v: _("There is no round “%(round)s” in this city.",
                                                           round=_q(v["round"]))),
    (rf"no district (?P<district>{_Q}) in round {_Q}",
     lambda v: _("There is no district “%(district)s” in this round.", district=_q(v["district"]))),
    (rf"no proposal (?P<id>\d+) in round {_Q}", lambda v: _("There is no idea number %(id)s in this round.",
                                                           id=v["id"])),
    (rf"no outcome (?P<id>\d+) in round {_Q}", lambda v: _("There is no count number %(id)s in this round.",
                                                          id=v["id"])),
    (rf"round {_Q} has no published outcome yet", lambda v: _("The results of this round are not published yet.")),
    (r"3 to 64 letters, digits, '_', '\.' or '-'", lambda v: _("3 to 64 letters, digits, '_', '.' or '-'.")),
    (r"at least 8 characters", lambda v: _("At least 8 characters.")),
    (rf"username (?P<username>{_Q}) is taken",
     lambda v: _("The user name “%(username)s” is taken; choose another.", username=_q(v["username"]))),
    (r"is taken", lambda v: _("This user name is taken; choose another.")),
    (r"wrong username or password", lambda v: _("Wrong user name or password.")),
    # sign-up by e-mail (pb_engine.residents) and who may endorse (pb_engine.endorsing)
    (r"wrong username or password \(a new account signs in once the link we e-mailed has been opened\)",
     lambda v: _("Wrong user name or password. A new account can sign in once the link we e-mailed has been "
                 "opened.")),
    (r"an e-mail address such as name@example\.org", lambda v: _("Enter an e-mail address, such as name@example.org.")),
    (r"this sign-up link is unknown, used or expired: sign up again",
     lambda v: _("This sign-up link is unknown, already used or expired. Please sign up again.")),
    (rf"no district (?P<district>{_Q}) in the rounds of .*",
     lambda v: _("There is no district “%(district)s” in this city's rounds.", district=_q(v["district"]))),
    (r"unknown verification code", lambda v: _("This verification code opens nothing: check it for a typo.")),
    (r"this verification code has been used", lambda v: _("This verification code has been used already.")),
    (r"a verification code has (?P<n>\d+) characters \(like K7QM-4TXR-9PWC\), this one has (?P<got>\d+)",
     lambda v: _("A verification code has %(n)s characters, like K7QM-4TXR-9PWC; this one has %(got)s.",
                 n=v["n"], got=v["got"])),
    (r"a verification code never contains (?P<chars>.*); check the code for a typo",
     lambda v: _("A verification code never contains %(chars)s; check it for a typo.", chars=v["chars"])),
    (r"this verification code has a typo \(its check character does not match\)",
     lambda v: _("This verification code has a typo: check it against the letter.")),
    (r"only verified residents may endorse in this round: .*",
     lambda v: _("In this round only verified residents may endorse ideas: ask the city to verify your "
                 "account (at a service desk, or with a verification code).")),
    (r"unknown categories (?P<categories>.*); this city has: .*",
     lambda v: _("Unknown category: %(categories)s. Choose one from the list.", categories=v["categories"])),
    (r"is more than the district budget \((?P<minor>\d+) minor units\)", _budget_words),
    (r"voting has started: the ballot is frozen and no proposal can be added",
     lambda v: _("Voting has started: no more ideas can be added.")),
    (rf"submission is not open \(the round is in (?P<phase>{_Q})\)",
     lambda v: _("Ideas cannot be sent now: the round is at the stage “%(phase)s”.", phase=phase_name(_q(v["phase"])))),
    (r"only the author may edit this proposal", lambda v: _("Only the author may edit this idea.")),
    (rf"proposals can be edited while submission is open \(the round is in (?P<phase>{_Q})\)",
     lambda v: _("Ideas can be edited only while ideas are being sent; the round is at the stage “%(phase)s”.",
                 phase=phase_name(_q(v["phase"])))),
    (rf"a proposal in status (?P<status>{_Q}) can no longer be edited",
     lambda v: _("This idea can no longer be edited: it is “%(status)s”.", status=status_name(_q(v["status"])))),
    (rf"endorsing is open during submission and endorsement \(the round is in (?P<phase>{_Q})\)",
     lambda v: _("Ideas can be endorsed only while ideas and support are being collected; the round is at the "
                 "stage “%(phase)s”.", phase=phase_name(_q(v["phase"])))),
    (r"an? (?P<status>\w+) proposal cannot be endorsed",
     lambda v: _("This idea cannot be endorsed: it is “%(status)s”.", status=status_name(v["status"]))),
    (r"you have already endorsed this proposal|already endorsed", lambda v: _("You have already endorsed this idea.")),
    (rf"comments are open from submission until voting ends \(the round is in (?P<phase>{_Q})\)",
     lambda v: _("Comments are open from the first ideas until voting ends; the round is at the stage “%(phase)s”.",
                 phase=phase_name(_q(v["phase"])))),
    # staff review refusals (pb_engine.proposals.review), met on the console's review page
    (r"the proposal cannot go on the ballot yet", lambda v: _("The proposal cannot go on the ballot yet.")),
    (r"a project on the ballot needs a reviewed cost", lambda v: _("A project on the ballot needs a reviewed cost.")),
    (r"a project on the ballot must be declared feasible",
     lambda v: _("A project on the ballot must be declared feasible.")),
    (r"needs (?P<needed>\d+) endorsements, has (?P<has>\d+)",
     lambda v: _("It needs %(needed)s endorsements and has %(has)s.", needed=v["needed"], has=v["has"])),
    (r"voting has started: the ballot, its costs and districts are frozen",
     lambda v: _("Voting has started: the ballot, its costs and districts are frozen.")),
    (r"frozen once voting started", lambda v: _("Frozen since voting started.")),
    (r"must be more than zero", lambda v: _("The reviewed cost must be more than zero.")),
    (r"a project on the ballot needs a reviewed cost and feasible = true; take it off the ballot first",
     lambda v: _("A project on the ballot needs a reviewed cost and must be feasible; take it off the ballot first.")),
    (r"required for on_ballot", lambda v: _("Required for a project on the ballot.")),
    (r"must be (?:an|a finite) amount(?: of (?P<currency>\w+))?, got .*",
     lambda v: _("Enter an amount in figures, e.g. 1500.")),
    (r".* has more than (?P<digits>\d+) decimal digit\(s\), the minor unit of (?P<currency>\w+)",
     lambda v: _("An amount in %(currency)s has at most %(digits)s decimals.", currency=v["currency"],
                 digits=v["digits"])),
]]

_worded_cache: dict[int, re.Pattern] = {}


def _already_worded(text: str) -> bool:
    """Whether `text` is a translation the page itself chose (a refusal raised with `_()`)."""
    from flask_babel import get_translations

    catalog = getattr(get_translations(), "_catalog", None) or {}
    pattern = _worded_cache.get(id(catalog))
    if pattern is None:
        alternatives = sorted({re.sub(r"%\\\(\w+\\\)s", ".+?", re.escape(v)) for v in catalog.values() if v},
                              key=len, reverse=True)
        pattern = re.compile("|".join(alternatives) or r"(?!)")
        if len(_worded_cache) > 8:
            _worded_cache.clear()
        _worded_cache[id(catalog)] = pattern
    return pattern.fullmatch(text) is not None


def word(text: str) -> str:
    """A sentence that reached a page without a code, in the visitor's language."""
    if current() == "en":
        return text
    for pattern, words in DOMAIN_SENTENCES:
        m = pattern.fullmatch(text)
        if m:
            return words(m.groupdict())
    if _already_worded(text):
        return text
    return _(text)

# Words for every refusal code of pb_engine.ballots.refusals (a test checks none is missing), looked
# up in the visitor's language when used.
PROBLEM_WORDS: dict[str, Any] = {
    "ballot_not_object": lambda: _("This ballot could not be read (%(got)s received)."),
    "field_not_allowed": lambda: _("This ballot could not be read (unexpected part “%(name)s”)."),
    "field_missing": lambda: _("This ballot could not be read (“%(name)s” is missing)."),
    "not_a_list": lambda: _("This ballot could not be read (%(got)s received)."),
    "points_not_object": lambda: _("This ballot could not be read (%(got)s received)."),
    "not_a_project_id": lambda: _("This ballot names something that is not a project (%(value)s)."),
    "points_key_not_a_project_id": lambda: _("This ballot names something that is not a project (%(value)s)."),
    "chosen_twice": lambda: _("“%(project)s” is chosen twice."),
    "ranked_twice": lambda: _("“%(project)s” is ranked twice (at %(first)s and %(second)s)."),
    "points_given_twice": lambda: _("“%(project)s” is given points twice."),
    "points_not_whole": lambda: _("Points must be whole numbers (“%(value)s” given to “%(project)s”)."),
    "points_not_positive": lambda: _("Points must be more than zero; leave a project empty to give it none."),
    "not_on_ballot": lambda: _("“%(project)s” is not on this ballot."),
    "on_other_ballot": lambda: _("“%(project)s” is on the ballot of another district."),
    "too_few_projects": lambda: _("You chose %(chosen)s projects; choose at least %(min)s."),
    "too_many_projects": lambda: _("You chose %(chosen)s projects; at most %(max)s are allowed."),
    "over_budget": lambda: _("Your choice costs %(total)s, more than the budget of %(budget)s by %(excess)s. "
                             "Leave out a project."),
    "under_min_spend": lambda: _("Your choice costs %(total)s; it must use at least %(share)s of the budget, "
                                 "that is %(minimum)s (%(shortfall)s more)."),
    "too_few_projects_with_points": lambda: _("You gave points to %(projects)s projects; give points to at least "
                                              "%(min)s."),
    "too_many_projects_with_points": lambda: _("You gave points to %(projects)s projects; at most %(max)s are "
                                               "allowed."),
    "too_many_points": lambda: _("You gave %(given)s points; you have %(max)s to give."),
    "too_many_points_on_project": lambda: _("%(points)s points on “%(project)s”; at most %(max)s on one project."),
    "ranking_too_short": lambda: _("You ranked %(ranked)s projects; rank at least %(min)s."),
    "ranking_too_long": lambda: _("You ranked %(ranked)s projects; rank at most %(max)s."),
    "ranking_has_duplicates": lambda: _("A project is ranked more than once."),
    "ballot_refused": lambda: _("Your ballot breaks %(count)s of the round's rules; see below."),
    "rank_given_twice": lambda: _("Rank %(rank)s is given to two projects; give each project its own rank."),
    "no_voting_phase": lambda: _("This round has no voting phase."),
    "voting_not_open": lambda: _("Voting is not open yet: it runs from %(opens_at)s to %(closes_at)s."),
    "voting_closed": lambda: _("Voting has closed: it ran from %(opens_at)s to %(closes_at)s."),
    "ballot_settings_invalid": lambda: _("The ballot settings of this round are invalid; the city must fix them."),
    "voter_credentials_missing": lambda: _("Enter your access code, or sign in with your resident account."),
    "paper_voter_missing": lambda: _("A paper ballot needs the voter's access code or resident account."),
    "access_code_not_text": lambda: _("Enter the access code as printed on your slip."),
    "access_code_wrong_length": lambda: _("An access code has %(length)s characters; you entered %(got)s."),
    "access_code_bad_characters": lambda: _("An access code does not contain these characters: %(characters)s."),
    "access_code_typo": lambda: _("This access code has a typing error; check it against your slip."),
    "access_code_unknown": lambda: _("This access code is not valid in this round."),
    "resident_unknown": lambda: _("This resident account is not known."),
    "method_not_accepted": lambda: _("This round does not accept this way of voting."),
    "resident_not_verified": lambda: _("The city has not yet checked your district; you cannot vote with this "
                                       "account yet."),
    "code_for_other_district": lambda: _("This access code is for district %(code_district)s; it cannot vote in "
                                         "%(district)s."),
    "not_your_district": lambda: _("You may vote in district %(own_district)s only."),
    "already_voted_elsewhere": lambda: _("You have already voted in district %(voted_district)s; this round allows a "
                                         "ballot in one district."),
    "voted_on_paper": lambda: _("You voted on paper; you cannot also vote online."),
    "voted_online": lambda: _("This voter has voted online; a paper ballot cannot be added."),
    "voter_session_expired": lambda: _("Your voter session has expired; enter your access code again."),
    "voter_session_invalid": lambda: _("Your voter session is not valid; enter your access code again."),
    "voter_of_another_round": lambda: _("This voter session belongs to another round."),
    # access codes and paper ballots (pb_engine/codes.py, pb_engine/paper.py)
    "access_code_revoked": lambda: _("This access code was revoked by the city; it can no longer be used."),
    "sign_in_closed": lambda: _("Voting has closed: an access code or a resident account no longer opens a ballot. "
                                "You can still check your receipt."),
    "access_code_claimed": lambda: _("This access code is bound to another resident account; it votes with that "
                                     "account only."),
    "access_code_voted_unbound": lambda: _("This access code has already voted without a resident account, so it "
                                           "cannot be bound to yours. Sign out to see or change that ballot with the "
                                           "code alone."),
    "access_code_already_revoked": lambda: _("This access code is already revoked."),
    # borrowing an idea from another round (pb_engine/borrowing.py)
    "borrow_unknown": lambda: _("The idea you started from is no longer public; send yours without it."),
    "borrow_same_round": lambda: _("An idea of this round cannot be started from another idea of the same round."),
    "access_code_used": lambda: _("This access code has already been used to vote; a used code cannot be revoked."),
    "batch_unknown": lambda: _("There is no batch %(batch)s in this round."),
    "batch_printed": lambda: _("Batch %(batch)s was marked printed: its codes can no longer be shown."),
    "batch_unsealable": lambda: _("The codes of batch %(batch)s cannot be opened: the service's secret key has "
                                  "changed since they were issued."),
    "paper_entry_unknown": lambda: _("There is no such paper ballot entry in this round."),
    "paper_entry_closed": lambda: _("This paper ballot entry is no longer waiting: it was counted or discarded."),
    # review, merging and moderation (pb_engine/merging.py, pb_engine/proposals.py)
    "merge_target_missing": lambda: _("Choose the proposal to merge this one into."),
    "merge_into_itself": lambda: _("A proposal cannot be merged into itself; choose another one."),
    "merge_other_round": lambda: _("Proposal %(id)s belongs to another round; merge within one round only."),
    "merge_after_voting": lambda: _("Voting has started: the ballot is frozen and proposals can no longer be merged."),
    "merge_already_merged": lambda: _("This proposal is already merged into proposal %(into)s."),
    "merge_target_merged": lambda: _("Proposal %(id)s is itself merged into proposal %(into)s; merge into that one."),
    "merge_on_ballot": lambda: _("This proposal is on the ballot; take it off the ballot before merging it."),
    "proposal_merged": lambda: _("This idea was merged into idea %(into)s; go on there."),
    "hide_reason_missing": lambda: _("Give the reason for hiding the comment."),
    "text_too_long": lambda: _("At most %(max)s characters."),
    "comment_already_hidden": lambda: _("This comment is already hidden."),
    "comment_not_hidden": lambda: _("This comment is not hidden."),
}


# --- outcome reasons -------------------------------------------------------------------

def explain(p, currency: str, rule_id: str = "") -> str:
    """Why a project was or was not funded, from its reason code and figures."""
    d = p.details or {}
    cost = money_major(p.cost, currency)
    if current() == "en" and p.message:
        return p.message
    if p.reason == "funded":
        if rule_id in ("mes", "ees", "bos") or p.price_per_supporter is not None or "payment_per_full_payer" in d:
            pay = d.get("payment_per_full_payer", d.get("payment_per_payer"))  # mes / ees
            if pay is not None:
                return _("Funded at step %(step)s: its supporters paid its cost of %(cost)s together, "
                         "%(pay)s each.", step=p.step, cost=cost, pay=money_major(pay, currency))
            return _("Funded at step %(step)s: its supporters paid its cost of %(cost)s together.",
                     step=p.step, cost=cost)
        if d.get("money_left") is not None:
            return _("Funded at step %(step)s with %(score)s votes; %(left)s was left after it.",
                     step=p.step, score=number(p.score), left=money_major(d["money_left"], currency))
        if p.step is not None:
            return _("Funded at step %(step)s.", step=p.step)
        return _("Funded: it is part of the best combination within the budget.")
    if p.reason == "funded_in_completion":
        return _("Funded when the money left over was shared out: its cost of %(cost)s still fitted.", cost=cost)
    if p.reason == "did_not_fit":
        if d.get("money_left") is not None:
            return _("Not funded: it costs %(cost)s, and only %(left)s was left when its turn came.",
                     cost=cost, left=money_major(d["money_left"], currency))
        return _("Not funded: it costs %(cost)s, which did not fit in the money left.", cost=cost)
    if p.reason == "below_threshold":
        return _("Not funded: %(score)s votes, fewer than the minimum of %(threshold)s.",
                 score=number(p.score), threshold=number(d.get("threshold")))
    if p.reason == "supporters_could_not_pay":
        return _("Not funded: at the end its %(n)s supporters had %(money)s left, less than its cost of %(cost)s.",
                 n=number(d.get("supporters")), money=money_major(d.get("supporters_money"), currency), cost=cost)
    if p.reason == "stopped":
        return _("Not funded: the count stopped when an earlier project did not fit.")
    if p.reason == "not_selected":
        return _("Not funded: the best combination within the budget does not include it.")
    if p.reason == "no_support":
        return _("Not funded: no voter chose it.")
    return _(p.message) if p.message else p.reason
