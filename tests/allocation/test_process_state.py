"""Library code leaves the process's settings alone: GC, recursion limit, stdout, start method.

A server's threads, a notebook and the tests share one process with the rules and the parser;
only the CLI (pb_engine/cli.py, pb_engine/commands/), which owns its process, may set them.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pb_engine import pabulib
from pb_engine.allocation import allocate
from pb_engine.allocation.knapsack import _Problem

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "pabulib"
PROCESS_WIDE = re.compile(
    r"gc\.(disable|freeze|set_threshold)\(|setrecursionlimit\(|set_start_method\(|set_forkserver_preload\(|"
    r"os\.dup2\(|sys\.std(out|err)\s*=[^=]|redirect_std(out|err)\(|signal\.signal\(|locale\.setlocale\(|"
    r"warnings\.(simplefilter|filterwarnings|catch_warnings)\(")


def library_files():
    for base in ("pb_engine", "api"):
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "pb_engine/cli.py" or rel.startswith("pb_engine/commands/") or "/migrations/" in rel:
                continue
            yield rel, path


def test_no_library_module_sets_process_wide_state():
    found = [f"{rel}:{n}: {line.strip()}" for rel, path in library_files()
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if PROCESS_WIDE.search(line) and not line.lstrip().startswith("#")]
    assert found == []


@pytest.fixture
def frozen_process(monkeypatch):
    """Any attempt to change these settings fails the test."""
    def refuse(name):
        def fn(*args, **kwargs):
            raise AssertionError(f"library code called {name}")
        return fn
    monkeypatch.setattr(gc, "disable", refuse("gc.disable"))
    monkeypatch.setattr(sys, "setrecursionlimit", refuse("sys.setrecursionlimit"))
    # (os.dup2 is pytest's own tool for capturing output: the source scan and the CLI test cover it)


def test_parsing_and_every_solver_run_without_touching_the_process(frozen_process):
    pb = pabulib.parse_path(DATA / "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb")
    assert gc.isenabled()
    for solver in ("cbc", "highs"):
        assert allocate(pb.instance, pb.profile, "max-welfare", solver=solver).selected


def test_the_exact_search_goes_deeper_than_the_recursion_limit(frozen_process):
    n = sys.getrecursionlimit() + 500
    found = _Problem([1] * n, [1] * n, n, "cbc").search(set(), set(), -1)
    assert found == frozenset(range(n))


def test_parse_path_and_parse_text_say_which_they_take(tmp_path):
    path = DATA / "Netherlands_Assen_2024.pb"
    text = path.read_text(encoding="utf-8")
    assert pabulib.parse_text(text).instance == pabulib.parse_path(path).instance == pabulib.parse(path).instance
    odd = tmp_path / "META"        # a file named like the text's first line: parse_path never reads it as text
    odd.write_text(text, encoding="utf-8")
    assert pabulib.parse_path(str(odd)).instance == pabulib.parse_path(path).instance
    with pytest.raises(Exception) as err:
        pabulib.parse_text(str(path))  # a path given as text is text, and not a .pb file
    assert "cannot read file" not in str(err.value)


def test_allocate_json_with_highs_prints_only_json():
    # a fresh process: the HiGHS banner comes at its first construction, which the CLI mutes
    out = subprocess.run([str(Path(sys.executable).parent / "pb-engine"), "allocate", "--rule", "max-welfare", "--solver",
                          "highs", "--json", str(DATA / "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["rule"] == "max-welfare"
