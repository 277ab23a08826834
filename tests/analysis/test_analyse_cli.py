"""`pb-engine analyse FOLDER --rules ... --out FILE.csv`: one row per file and rule with the figures and the
agreement with the file's `selected`; resumes without redoing finished files (and redoes a half-written
one); bad --rules named; the same job code on RQ workers (skipped, saying so, without Redis)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from pb_engine import pabulib
from pb_engine.allocation.registry import allocate
from pb_engine.analysis import figures as fig
from pb_engine.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
SMALL = ("Netherlands_Assen_2024.pb", "Poland_Czestochowa_2020_Grabowka.pb", "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb")
REDIS = "redis://127.0.0.1:6379/0"


def _folder(tmp_path, names=SMALL) -> Path:
    folder = tmp_path / "pb"
    folder.mkdir(exist_ok=True)
    for n in names:
        shutil.copy(DATA / n, folder / n)
    return folder


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _has_selected(name: str) -> bool:
    from pb_engine.allocation.selected import published_selection

    return published_selection(pabulib.parse_path(DATA / name).instance) is not None


def _run(*args):
    return CliRunner().invoke(main, ["analyse", *map(str, args)], catch_exceptions=False)


def test_rows_per_file_and_rule_with_figures_and_agreement(tmp_path):
    out = tmp_path / "a.csv"
    r = _run(_folder(tmp_path), "--rules", "greedy,mes:completion=add1,phragmen", "--out", out, "--processes", "2")
    assert r.exit_code == 0, r.output
    rows = _rows(out)
    with_selected = {f for f in SMALL if _has_selected(f)}
    assert with_selected and with_selected != set(SMALL)  # both kinds of file
    assert {(x["file"], x["rule"]) for x in rows} == {
        (f, rule) for f in SMALL for rule in ("official", "greedy", "mes:completion=add1", "phragmen")
        if rule != "official" or f in with_selected}
    assert all(x["matches_official"] == "" for x in rows if x["file"] not in with_selected)
    # one row checked against the figures computed here, and the official agreement by hand
    pb = pabulib.parse_path(DATA / "Netherlands_Assen_2024.pb")
    outcome = allocate(pb.instance, pb.profile, "mes", completion="add1")
    row = next(x for x in rows if x["file"] == "Netherlands_Assen_2024.pb" and x["rule"] == "mes:completion=add1")
    fair = fig.as_json(fig.fairness((pb.instance, pb.profile), outcome.selected))
    assert int(row["funded"]) == len(outcome.selected) and int(row["voters"]) == 84
    assert float(row["gini_cost"]) == fair["gini_cost"] and float(row["share_with_funded"]) == fair["share_with_funded"]
    official = {p.id for p in pb.instance.projects if (p.extra.get("selected") or "").strip() == "1"}
    assert row["matches_official"] == str(set(outcome.selected) == official)  # Assen's own rule: equalshares/add1
    assert "ballots | files" in r.output  # the timing table


def test_resumes_without_redoing_finished_files(tmp_path, monkeypatch):
    folder = _folder(tmp_path, SMALL[:2])
    out = tmp_path / "a.csv"
    assert _run(folder, "--rules", "greedy", "--out", out, "--processes", "1").exit_code == 0
    # interrupted mid-file: the last line cut short; and a new file arrived
    text = out.read_text(encoding="utf-8")
    out.write_text(text[: len(text) - 40], encoding="utf-8")
    cut = _rows(out)[-1]["file"]
    _folder(tmp_path, SMALL[2:])
    import pb_engine.commands.analyse as cmd

    done = []
    real = cmd._one
    monkeypatch.setattr(cmd, "_one", lambda source, rules, label: done.append(label) or real(source, rules, label))
    r = _run(folder, "--rules", "greedy", "--out", out, "--processes", "1")
    assert r.exit_code == 0, r.output
    assert sorted(done) == sorted({cut, SMALL[2]})  # the cut file again, the new one; nothing else
    rows = _rows(out)
    assert sorted((x["file"], x["rule"]) for x in rows) == sorted(
        (f, rule) for f in SMALL for rule in ("official", "greedy") if rule != "official" or _has_selected(f))
    done.clear()
    assert _run(folder, "--rules", "greedy", "--out", out).exit_code == 0 and done == []
    # another rule later: every file again (rows of the earlier rule kept for files done with both)
    assert _run(folder, "--rules", "greedy,phragmen", "--out", out, "--processes", "1").exit_code == 0
    assert len(done) == 3


def test_bad_rules_and_unreadable_files_are_named(tmp_path):
    folder = _folder(tmp_path, SMALL[:1])
    r = CliRunner().invoke(main, ["analyse", str(folder), "--rules", "greedy,nosuch", "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "--rules" in r.output and "unknown rule 'nosuch'" in r.output
    r = CliRunner().invoke(main, ["analyse", str(folder), "--rules", "mes:completion=sideways", "--out",
                                  str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "completion" in r.output
    (folder / "broken.pb").write_text("META\nkey;value\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["analyse", str(folder), "--rules", "greedy", "--out", str(tmp_path / "y.csv"),
                                  "--processes", "1"])
    assert r.exit_code == 1 and "error: broken.pb" in r.output
    rows = _rows(tmp_path / "y.csv")
    assert [x["status"] for x in rows if x["file"] == "broken.pb"] == ["unreadable"]
    assert "greedy" in {x["rule"] for x in rows if x["file"] == SMALL[0]}


def test_queue_workers_run_the_same_job_code(tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as e:
        pytest.skip(f"Redis at {REDIS} does not answer ({e}): analyse over RQ workers not tested")
    queue = f"pb_engine_test_{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen([str(Path(sys.executable).with_name("pb-engine")), "worker", "--redis", REDIS, "--queue", queue,
                               "--no-fork"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = tmp_path / "a.csv"
        r = _run(_folder(tmp_path), "--rules", "greedy", "--out", out, "--redis", REDIS, "--queue", queue)
        assert r.exit_code == 0, r.output
        assert "queue workers" in r.output
        assert sorted(x["file"] for x in _rows(out) if x["rule"] == "greedy") == sorted(SMALL)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
