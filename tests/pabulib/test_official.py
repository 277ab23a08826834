"""`official`: each file's own rule, read the way the city applied it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from pb_engine import pabulib
from pb_engine.allocation.official import QUIRKS, official, official_rule
from pb_engine.allocation.registry import check_options
from pb_engine.allocation.selected import compare_with_selected, published_selection

PABULIB = Path(__file__).resolve().parent.parent / "data" / "pabulib"
QUIRKS_DIR = PABULIB.parent / "pabulib_quirks"


def compare(out, instance):
    """(matches, funded-but-not-selected, selected-but-not-funded), or None without a `selected` column."""
    published = published_selection(instance)
    if published is None:
        return None
    c = compare_with_selected(out, published)
    return c.matches, list(c.not_selected_in_file), list(c.missing_from_rule)

GREEDY_FAMILY_WITH_SELECTED = [
    "Poland_Katowice_2022_Osiedle_Witosa.pb",        # cumulative, greedy-threshold on points
    "Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb",   # ordinal, 3/2/1 points per rank
    "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb",  # fully funded
    "Poland_Warszawa_2018_rejon_6.pb",               # greedy-threshold, 10% of the ballots
    "Poland_Warszawa_2026.pb",                       # greedy-threshold, 61 668 ballots
    "Poland_Wroclaw_2018_Rejon_nr_10_250.pb",        # choose-1, greedy-no-skip
]
MES_WITH_SELECTED = ["Netherlands_Assen_2024.pb", "Poland_Wieliczka_2023_Green_Budget.pb"]
NO_SELECTED = ["France_Toulouse_2022.pb", "Poland_Czestochowa_2020_Grabowka.pb"]
UNKNOWN = [
    "US_Stanford_Dataset_PB_Cambridge_2015_vote_knapsacks.pb",
    "Worldwide_Mechanical_Turk_Ranking_value_money_3.pb",
    "Worldwide_Mechanical_Turk_Utilities_3.pb",
]


def test_lists_cover_every_file():
    listed = GREEDY_FAMILY_WITH_SELECTED + MES_WITH_SELECTED + NO_SELECTED + UNKNOWN
    assert sorted(listed) == sorted(p.name for p in PABULIB.glob("*.pb"))


@pytest.mark.parametrize("name", GREEDY_FAMILY_WITH_SELECTED)
def test_official_reproduces_greedy_family(name, parsed):
    pb = parsed(name)
    out = official(pb.instance, pb.profile)
    matches, extra, missing = compare(out, pb.instance)
    assert (matches, extra, missing) == (True, [], [])
    assert out.total_cost <= pb.instance.budget
    assert out.options["official_rule"] == pb.meta["rule"]


@pytest.mark.parametrize("name", MES_WITH_SELECTED)
def test_official_reproduces_equal_shares(name, parsed):
    pb = parsed(name)
    out = official(pb.instance, pb.profile)
    assert compare(out, pb.instance) == (True, [], []), out.notes


def test_threshold_and_count_columns(parsed):
    kat = official(*_ip(parsed("Poland_Katowice_2022_Osiedle_Witosa.pb")))
    assert kat.options["score_column"] == "score" and kat.options["threshold"] == "50"
    waw = official(*_ip(parsed("Poland_Warszawa_2018_rejon_6.pb")))
    assert waw.options["score_column"] == "votes" and waw.options["threshold"] == "274"
    below = [r for r in waw.projects if r.reason == "below_threshold"]
    assert below and all(r.score < 274 for r in below)
    krk = official(*_ip(parsed("Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb")))
    assert krk.options["score_column"] == "score"
    assert krk.result("19").score == 1913  # points per rank, not the 769 votes


def test_no_skip_stops_where_greedy_would_skip(parsed):
    out = official(*_ip(parsed("Poland_Wroclaw_2018_Rejon_nr_10_250.pb")))
    reasons = {r.id: r.reason for r in out.projects}
    assert reasons["243"] == "did_not_fit"
    assert reasons["462"] == "stopped"  # 20 000 would fit a plain greedy, not this rule


@pytest.mark.parametrize("name", NO_SELECTED)
def test_known_rule_without_selected_column(name, parsed):
    pb = parsed(name)
    out = official(pb.instance, pb.profile)
    assert compare(out, pb.instance) is None and published_selection(pb.instance) is None
    assert out.selected and out.total_cost <= pb.instance.budget


@pytest.mark.parametrize("name", UNKNOWN)
def test_unknown_rule_says_why(name, parsed):
    pb = parsed(name)
    out = official(pb.instance, pb.profile)
    assert out.selected == ()
    assert out.options["computed"] is False
    assert any("rule is unknown" in n for n in out.notes)


def _ip(pb):
    return pb.instance, pb.profile


# ---------------------------------------------------------------------------- the rule, on small files


def make(rule: str, projects: list[str], votes: list[str], *, meta: str = "", columns: str = "project_id;cost;votes",
         vote_type: str = "approval", vote_columns: str = "voter_id;vote", budget: int = 100):
    text = (f"META\nkey;value\nbudget;{budget}\nvote_type;{vote_type}\nrule;{rule}\n{meta}"
            f"PROJECTS\n{columns}\n" + "\n".join(projects) + f"\nVOTES\n{vote_columns}\n" + "\n".join(votes) + "\n")
    pb = pabulib.parse(text.replace("\n\n", "\n"))
    return pb, official(pb.instance, pb.profile)


def test_ties_follow_the_file_order():
    rows = ["a;60;2;0", "b;60;2;1"]
    _, out = make("greedy", ["a;60;2", "b;60;2"], ["1;a,b", "2;a,b"])
    assert out.selected == ("a",)
    _, out = make("greedy", ["b;60;2", "a;60;2"], ["1;a,b", "2;a,b"])
    assert out.selected == ("b",)
    assert any("ties in votes broken by the order" in n for n in out.notes)
    assert rows  # (kept for readability)


def test_greedy_skips_greedy_no_skip_stops():
    projects = ["a;70;3", "b;50;2", "c;30;1"]
    votes = ["1;a,b,c", "2;a,b", "3;a"]
    assert make("greedy", projects, votes)[1].selected == ("a", "c")
    assert make("greedy-no-skip", projects, votes)[1].selected == ("a",)


def test_threshold_on_the_ranking_figure_and_with_plain_greedy():
    projects = ["a;10;3;3", "b;10;2;9", "c;10;1;1"]
    votes = ["1;a,b;1,4", "2;a,b;1,5", "3;a,c;1,1"]
    common = dict(columns="project_id;cost;votes;score", vote_type="cumulative", vote_columns="voter_id;vote;points")
    pb, out = make("greedy-threshold", projects, votes, meta="min_project_score_threshold;3\n", **common)
    assert out.selected == ("b", "a")  # ranked and filtered by points: c has 1 point
    assert any("on 'votes' instead the threshold would change the eligibility of: b" in n for n in out.notes)
    pb, out = make("greedy", projects, votes, meta="min_project_score_threshold;3\n", **common)
    assert out.selected == ("b", "a")
    assert any("with rule 'greedy': the threshold is applied" in n for n in out.notes)


def test_poznan_greedy_sort_funds_the_80_percent_project():
    meta = "unit;Poznań\ncomment;#1: ... at least 80% of that project ... number 2 in the selected column.\n"
    projects = ["a;60;3;1", "b;50;2;2", "c;10;1;0"]
    pb, out = make("greedy-custom", projects, ["1;a,b,c", "2;a,b", "3;a"], meta=meta,
                   columns="project_id;cost;votes;selected")
    assert out.selected == ("a", "b")  # 40 left covers 80% of b's 50; then it stops (c not funded)
    assert out.result("c").reason == "stopped"
    assert published_selection(pb.instance).projects == ("a", "b")
    assert compare(out, pb.instance) == (True, [], [])


def test_selected_2_is_explained_and_not_compared():
    projects = ["a;60;3;1", "b;50;2;2", "c;30;1;1"]
    pb, out = make("greedy", projects, ["1;a,b,c", "2;a,b", "3;a"], columns="project_id;cost;votes;selected")
    assert out.selected == ("a", "c")
    c = compare_with_selected(out, published_selection(pb.instance))
    assert c.matches and c.set_aside == ({"code": "selected_outside_rule", "project": "b", "mark": "2"},)


def test_mismatch_is_reported():
    pb, out = make("greedy", ["a;60;3;0", "b;50;2;1"], ["1;a,b", "2;a,b", "3;a"],
                   columns="project_id;cost;votes;selected")
    assert compare(out, pb.instance) == (False, ["a"], ["b"])
    c = compare_with_selected(out, published_selection(pb.instance))
    assert c.differences == ({"code": "not_selected_in_file", "project": "a"},
                             {"code": "missing_from_rule", "project": "b", "reason": "did_not_fit"})
    assert c.to_dict()["matches"] is False and not any("selection" in n for n in out.notes)


def test_published_count_wins_over_the_ballots_and_is_flagged():
    # The city counted 9 votes for b (e.g. paper ballots missing from the file).
    _, out = make("greedy", ["a;60;2", "b;60;9"], ["1;a", "2;a"])
    assert out.selected == ("b",)
    assert any("published 'votes' differs from the count of the ballots" in n for n in out.notes)


def test_without_published_counts_the_ballots_decide_borda_for_ranks():
    # Two ballots rank b first; three rank a second: Borda 2+2+1=... computed from the ballots.
    _, out = make("greedy", ["a;60", "b;60"], ["1;b,a", "2;b,a", "3;a"], columns="project_id;cost",
                  vote_type="ordinal")
    assert out.options["score_column"] == "score"
    assert out.result("b").score == 4 and out.result("a").score == 3
    assert out.selected == ("b",)
    assert any("computed from the ballots" in n for n in out.notes)


@pytest.mark.parametrize("rule, says", [
    ("unknown", "the file says the rule is unknown"),
    ("", "the file names no rule"),
    ("lottery", "'lottery' is not one this engine knows"),
])
def test_rules_we_cannot_run_say_why(rule, says):
    _, out = make(rule, ["a;60;2"], ["1;a"])
    assert out.selected == () and any(says in n for n in out.notes)


def test_outcome_record(parsed):
    pb = parsed("Poland_Warszawa_2018_rejon_6.pb")
    out = official(pb.instance, pb.profile)
    d = out.to_dict()
    assert d["rule"] == "official" and d["tie_breaking"]["kind"] == "file-order"
    assert d["input_hash"].startswith("sha256:")
    assert d["total_cost"] == sum(int(pb.instance.project(p).cost) for p in out.selected)
    assert Fraction(d["budget"]) == pb.instance.budget


def test_equalshares_comparison_takes_greedy_when_more_voters_prefer_it():
    # MES (cost utilities) funds nothing: a's four supporters hold 80 of its 100, b's one holds 20 of 50.
    projects = ["a;100;4", "b;50;1", "c;50;1"]
    votes = ["1;a", "2;a", "3;a", "4;a", "5;b,c"]
    _, plain = make("equalshares", projects, votes)
    assert plain.selected == ()
    _, compared = make("equalshares-comparison", projects, votes)
    assert compared.selected == ("a",)
    assert any("4 the greedy outcome by votes; greedy kept" in n.replace("voter(s) prefer the MES outcome, ", "")
               or "greedy kept" in n for n in compared.notes)
    assert compared.result("a").funded and not compared.result("b").funded


def test_withdrawn_project_does_not_stop_no_skip_and_zero_votes_are_said():
    projects = ["a;50;3", "w;999999999;2", "b;30;1", "z;10;0"]
    _, out = make("greedy-no-skip", projects, ["1;a,w,b", "2;a,w", "3;a"])
    assert out.selected == ("a", "b", "z")
    assert out.result("w").details["withdrawn"] is True
    assert any("project z has votes 0 and is funded" in n for n in out.notes)


# ---------------------------------------------------------------------------- one engine behind `official`

REPRODUCED_QUIRK_FILES = ["Poland_Warszawa_2026_Blonia_Wilanowskie.pb", "Poland_Warszawa_2026_Natolin_Kabaty.pb",
                          "Poland_Warszawa_2026_Tarchomin.pb"]
EVERY_FILE = sorted(PABULIB.glob("*.pb")) + sorted(QUIRKS_DIR.glob("*.pb"))


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.stem[:40])
def test_official_runs_on_every_file_as_a_registered_rule(path):
    pb = pabulib.parse(path)
    reading = official_rule(pb.instance, pb.profile)
    out = official(pb.instance, pb.profile)
    assert set(reading.quirks) <= set(QUIRKS)
    assert all(isinstance(n["code"], str) for n in out.options["notes"])
    if reading.rule is None:
        assert out.selected == () and out.options["computed"] is False
        return
    check_options(reading.rule, reading.options)  # a configuration the registered rule takes, as it is
    assert out.options["rule"] == reading.rule and out.total_cost <= pb.instance.budget
    matched = compare(out, pb.instance)
    if path.parent == PABULIB and path.name in GREEDY_FAMILY_WITH_SELECTED + MES_WITH_SELECTED:
        assert matched == (True, [], [])
    if path.name in REPRODUCED_QUIRK_FILES:
        assert matched == (True, [], [])
        assert out.options["rule"] == "greedy-threshold" and out.options["threshold"] == "30"


@pytest.mark.parametrize("name", ["Poland_Warszawa_2018_rejon_6.pb", "Poland_Warszawa_2026.pb",
                                  "Poland_Wroclaw_2018_Rejon_nr_10_250.pb", "Netherlands_Assen_2024.pb"])
def test_official_is_the_registered_rule_with_the_files_settings(name, parsed):
    # where the published count is the ballots' count, the registered rule alone gives the official outcome
    from pb_engine.allocation import allocate

    pb = parsed(name)
    reading = official_rule(pb.instance, pb.profile)
    assert not any(n["code"] == "published_count_differs" for n in reading.notes)
    plain = allocate(pb.instance, pb.profile, reading.rule, tie_breaking=reading.tie_breaking, **reading.options)
    out = official(pb.instance, pb.profile)
    assert plain.selected == out.selected
    assert [(r.id, r.reason) for r in plain.projects] == [(r.id, r.reason) for r in out.projects]


def test_readings_of_each_pabulib_rule():
    cases = {
        ("greedy", ""): ("greedy", {}, ("fund_unsupported",)),
        ("greedy", "min_project_score_threshold;2\n"): ("greedy-threshold", {"threshold": Fraction(2)},
                                                         ("fund_unsupported",)),
        ("greedy-no-skip", ""): ("greedy-no-skip", {}, ("fund_unsupported",)),
        ("greedy-no-skip", "min_project_score_threshold;2\n"): ("greedy-no-skip", {},
                                                                 ("fund_unsupported", "threshold_without_skip")),
        ("equalshares", ""): ("mes", {"satisfaction": "cost"}, ()),
        ("equalshares/add1", ""): ("mes", {"satisfaction": "cost", "completion": "add1", "exhaustive_stop": False}, ()),
        ("equalshares/add1-comparison", ""): ("mes", {"satisfaction": "cost", "completion": "add1-comparison"}, ()),
        ("equalshares-comparison", ""): ("mes", {"satisfaction": "cost"}, ("compare_with_greedy",)),
        ("unknown", ""): (None, {}, ()),
    }
    for (rule, meta), (rid, options, quirks) in cases.items():
        pb, _ = make(rule, ["a;60;2", "b;50;1"], ["1;a,b", "2;a"], meta=meta)
        reading = official_rule(pb.instance, pb.profile)
        assert (reading.rule, dict(reading.options), reading.quirks) == (rid, options, quirks), rule
        assert reading.to_dict()["rule"] == rid


def test_a_withdrawn_project_is_never_funded_even_when_the_budget_covers_it():
    budget = 2_000_000_000
    pb, out = make("greedy", ["a;50;3", "w;999999999;9", "b;30;1"], ["1;a,w,b", "2;a,w", "3;w"], budget=budget)
    assert "withdrawn" in out.options["quirks"]
    assert out.selected == ("a", "b") and out.result("w").details["withdrawn"] is True
    assert {"code": "withdrawn", "project": "w"} in out.options["notes"]


def test_compare_with_selected_takes_plain_ids_and_carries_the_reason():
    pb, out = make("greedy", ["a;70;3", "b;50;2", "c;30;1"], ["1;a,b,c", "2;a,b", "3;a"])
    c = compare_with_selected(out, ["a", "b"])
    assert not c.matches and c.published == ("a", "b")
    assert c.differences == ({"code": "missing_from_rule", "project": "b", "reason": "did_not_fit"},
                             {"code": "not_selected_in_file", "project": "c"})
    assert compare_with_selected(out, {"a", "c"}).matches


def test_notes_are_codes_with_values():
    _, out = make("greedy", ["a;60;2", "b;60;9"], ["1;a", "2;a"])
    (differs,) = [n for n in out.options["notes"] if n["code"] == "published_count_differs"]
    assert differs == {"code": "published_count_differs", "column": "votes",
                       "projects": [{"project": "b", "published": 9, "counted": 0}]}
