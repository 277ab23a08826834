"""What real files hold and the reader accepts with a warning (or refuses in strict mode).

Hand-made files: tests/data/pabulib_malformed/ (expected.json, section "read"); real files:
tests/data/pabulib_quirks/ (six archive files where a vote names a project twice).
"""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pb_engine import pabulib
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot
from pb_engine.cli import main
from pb_engine.errors import PabulibError

DATA = Path(__file__).resolve().parent.parent / "data"
MALFORMED = DATA / "pabulib_malformed"
QUIRKS = DATA / "pabulib_quirks"
EXPECTED = json.loads((MALFORMED / "expected.json").read_text(encoding="utf-8"))
READ, REFUSED = EXPECTED["read"], EXPECTED["refused"]
REPEATED = ("repeated_approval", "repeated_points_summed", "repeated_rank")


# ---------------------------------------------------------------------------- hand-made files


@pytest.mark.parametrize("name", sorted(READ))
def test_read_with_structured_warnings(name):
    pb = pabulib.parse(MALFORMED / name)
    got = [[w.code, w.line, w.voter, w.project] for w in pb.warnings]
    assert got == READ[name]["warnings"]
    for w in pb.warnings:
        assert w.code in pabulib.WARNING_CODES and w.message and w.to_dict()["code"] == w.code


@pytest.mark.parametrize("name", sorted(READ))
def test_strict_mode_refuses_repeats_only(name):
    expected = READ[name]["strict"]
    if expected is None:  # legal but unusual: strict mode reads it too, with the same warnings
        assert pabulib.parse(MALFORMED / name, strict=True).warnings == pabulib.parse(MALFORMED / name).warnings
        return
    line, fragment = expected
    with pytest.raises(PabulibError) as err:
        pabulib.parse(MALFORMED / name, strict=True)
    assert err.value.line == line and fragment in err.value.problem, err.value.message


def test_approval_repeat_is_approved_once():
    pb = pabulib.parse(MALFORMED / "project_twice_in_vote.pb")
    assert pb.profile.ballots[1] == ApprovalBallot(frozenset({"1", "3"}))
    (w,) = pb.warnings
    assert (w.voter, w.project, dict(w.params)) == ("v2", "3", {"times": 2})


def test_cumulative_repeat_sums_its_points():
    pb = pabulib.parse(MALFORMED / "cumulative_project_twice_in_vote.pb")
    assert pb.profile.ballots[1] == CumulativeBallot.of({"3": 3, "1": 2})  # "3,1,3" with "1,2,2"
    (w,) = pb.warnings
    assert dict(w.params) == {"points": [1, 2], "total": 3}
    # the published score is the sum of the entries' points, as the reader counts them
    score = Counter()
    for b in pb.profile.ballots:
        for pid, n in b.points:
            score[pid] += n
    assert {p.id: Fraction(p.extra["score"]) for p in pb.instance.projects} == score


def test_ordinal_repeat_keeps_the_first_position():
    pb = pabulib.parse(MALFORMED / "ordinal_project_twice_in_vote.pb")
    assert pb.profile.ballots[1] == OrdinalBallot(("3", "1"))  # "3,1,3"
    (w,) = pb.warnings
    assert dict(w.params) == {"times": 2, "position": 1}


def test_a_repeated_vote_text_warns_for_every_voter_who_cast_it():
    text = ("META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;5\n2;5\n"
            "VOTES\nvoter_id;vote\na;1,1\nb;2\nc;1,1\n")
    pb = pabulib.parse(text)
    assert [(w.line, w.voter) for w in pb.warnings] == [(11, "a"), (13, "c")]
    assert pb.profile.ballots[0] is pb.profile.ballots[2]
    assert pabulib.dumps(pb) == text  # the file still round-trips byte for byte


def test_warning_lines_cap_each_code():
    ws = [pabulib.PabulibWarning("empty_vote", i, str(i)) for i in range(1, 9)]
    lines = pabulib.warning_lines(ws, per_code=3)
    assert lines[:3] == ["line 1: voter '1' casts a vote naming no project", "line 2: voter '2' casts a vote "
                         "naming no project", "line 3: voter '3' casts a vote naming no project"]
    assert lines[3:] == ["… and 5 more empty_vote warning(s)"]


# ---------------------------------------------------------------------------- real files


@pytest.mark.parametrize("path", sorted(QUIRKS.glob("*.pb")), ids=lambda p: p.stem[:40])
def test_real_quirk_files_read_and_strict_refuses(path):
    pb = pabulib.parse(path)
    assert pb.warnings and {w.code for w in pb.warnings} <= set(REPEATED)
    assert all(w.voter and w.project and w.line for w in pb.warnings)
    # the published votes count every entry; the ballots count a repeated approval once
    published = pb.published("votes")
    counted = Counter(p for b in pb.profile.ballots for p in b.supported())
    repeats = Counter()
    for w in pb.warnings:
        repeats[w.project] += (w.params["times"] if "times" in w.params else len(w.params["points"])) - 1
    assert {pid: int(Fraction(v)) for pid, v in published.items()} == {
        pid: counted[pid] + repeats[pid] for pid in published}
    first = pb.warnings[0]
    with pytest.raises(PabulibError) as err:
        pabulib.parse(path, strict=True)
    assert err.value.line == first.line
    assert f"voter {first.voter!r}: project {first.project!r}" in err.value.problem


def test_czestochowa_points_are_summed_as_the_city_counted():
    pb = pabulib.parse(QUIRKS / "Poland_Czestochowa_2020.pb")
    (w,) = pb.warnings
    assert (w.code, w.voter, w.project, dict(w.params)) == (
        "repeated_points_summed", "13026", "579", {"points": [1, 1, 1, 1], "total": 4})
    score = Counter()
    for b in pb.profile.ballots:
        for pid, n in b.points:
            score[pid] += n
    assert {pid: int(v) for pid, v in pb.published("score").items()} == {pid: score[pid] for pid in score}


# ---------------------------------------------------------------------------- the CLI on every file


def invoke(*args):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output and "Traceback" not in r.stderr
    return r


@pytest.mark.parametrize("name", sorted(p.name for p in MALFORMED.glob("*.pb")))
def test_cli_on_every_hand_made_file(name):
    path = str(MALFORMED / name)
    validate, strict = invoke("pabulib", "validate", path), invoke("pabulib", "validate", "--strict", path)
    official = invoke("allocate", path, "--rule", "official")
    if name in REFUSED:
        line, fragment = REFUSED[name]
        for r in (validate, strict, official):
            assert r.exit_code == 1
            assert f"error: {path}:line {line}: " in r.stderr and fragment in r.stderr, r.stderr
        return
    expect = READ[name]
    pb = pabulib.parse(path)
    assert validate.exit_code == 0 and official.exit_code == 0, official.stderr
    for w in pb.warnings:
        assert f"  warning: line {w.line}: {w.message}" in validate.stdout
        assert f"warning: {path}: line {w.line}: {w.message}" in official.stderr
    if expect["strict"] is None:
        assert strict.exit_code == 0
    else:
        line, fragment = expect["strict"]
        assert strict.exit_code == 1 and f"error: {path}:line {line}: " in strict.stderr and fragment in strict.stderr
    if "official" in expect:
        assert expect["official"] in official.stdout


def test_cli_json_keeps_the_warnings():
    path = str(QUIRKS / "Poland_Warszawa_2026_Tarchomin.pb")
    r = invoke("allocate", path, "--rule", "official", "--json")
    (d,) = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert d["warnings"] == [
        {"code": "repeated_approval", "line": 135, "voter": "230580", "project": "1557", "params": {"times": 2}},
        {"code": "repeated_approval", "line": 385, "voter": "257844", "project": "1543", "params": {"times": 2}},
    ]


@pytest.mark.parametrize("name", sorted(READ))
def test_every_rule_runs_on_every_read_file(name):
    # the quirks (empty votes, zero costs, a budget above every project, ...) reach the rules: each
    # runs, or refuses the ballot kind with a message; none fails with a traceback
    from pb_engine.allocation import rule_ids

    path = str(MALFORMED / name)
    needs = {"greedy-threshold": ["--threshold", "1"]}
    runs = [[rule, *needs.get(rule, [])] for rule in rule_ids()] + [["mes", "--completion", "add1"]]
    for rule, *args in runs:
        r = invoke("allocate", path, "--rule", rule, *args)
        assert r.exit_code == 0 or (r.exit_code == 1 and "error: " in r.stderr), (rule, r.stderr)
        if r.exit_code == 0:
            assert "funded " in r.stdout, rule


# ---------------------------------------------------------------------------- the decisions, as properties

PROJECT_IDS = ["1", "2", "3", "4"]
VOTES = st.lists(st.lists(st.sampled_from(PROJECT_IDS), max_size=6), min_size=1, max_size=6)


def _file(vote_type: str, votes: list[list[str]], points: list[list[int]] | None = None) -> str:
    header = "voter_id;vote;points" if points is not None else "voter_id;vote"
    rows = [f"v{i};{','.join(v)}" + (f";{','.join(map(str, points[i]))}" if points is not None else "")
            for i, v in enumerate(votes)]
    return ("META\nkey;value\nbudget;10\nvote_type;" + vote_type + "\nPROJECTS\nproject_id;cost\n"
            + "".join(f"{p};5\n" for p in PROJECT_IDS) + "VOTES\n" + header + "\n" + "\n".join(rows) + "\n")


def _repeated(v: list[str]) -> list[str]:
    return [p for p in dict.fromkeys(v) if v.count(p) > 1]


@settings(max_examples=60, deadline=None)
@given(VOTES)
def test_approval_repeats_count_once_with_one_warning_each(votes):
    pb = pabulib.parse(_file("approval", votes))
    assert [b.projects for b in pb.profile.ballots] == [frozenset(v) for v in votes]
    expected = [(f"v{i}", p, v.count(p)) for i, v in enumerate(votes) for p in _repeated(v)]
    got = [(w.voter, w.project, w.params["times"]) for w in pb.warnings if w.code == "repeated_approval"]
    assert got == expected
    assert [w.voter for w in pb.warnings if w.code == "empty_vote"] == [f"v{i}" for i, v in enumerate(votes) if not v]
    if expected:
        with pytest.raises(PabulibError):
            pabulib.parse(_file("approval", votes), strict=True)
    else:
        assert pabulib.parse(_file("approval", votes), strict=True).profile == pb.profile


@settings(max_examples=60, deadline=None)
@given(VOTES, st.data())
def test_cumulative_repeats_sum_ordinal_repeats_keep_the_first(votes, data):
    points = [[data.draw(st.integers(1, 5)) for _ in v] for v in votes]
    pb = pabulib.parse(_file("cumulative", votes, points))
    for ballot, v, pts in zip(pb.profile.ballots, votes, points):
        total = Counter()
        for p, k in zip(v, pts):
            total[p] += k
        assert ballot.as_dict() == dict(total)
    ranked = pabulib.parse(_file("ordinal", votes))
    assert [b.ranking for b in ranked.profile.ballots] == [tuple(dict.fromkeys(v)) for v in votes]
    assert [(w.voter, w.project, w.params["position"]) for w in ranked.warnings if w.code == "repeated_rank"] == [
        (f"v{i}", p, v.index(p) + 1) for i, v in enumerate(votes) for p in _repeated(v)]
