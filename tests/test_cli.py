"""The CLI: load-configs (idempotent, refusals on stderr with exit 1), db upgrade, and serve as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from pb_engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "city_configs"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(args, url):
    return CliRunner().invoke(main, args, env={"PB_DATABASE_URL": url}, catch_exceptions=False)


def test_load_configs_twice_reports_unchanged(sqlite_url):
    first = run(["load-configs", str(CONFIGS)], sqlite_url)
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "taipei" in first.output
    second = run(["load-configs", str(CONFIGS)], sqlite_url)
    assert second.exit_code == 0
    assert "created" not in second.output and "updated" not in second.output
    assert second.output.count("unchanged") >= 6, second.output


def test_load_configs_bad_file_exits_1_and_names_file_and_key(sqlite_url, tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "toulouse.toml").write_text((CONFIGS / "toulouse.toml").read_text(encoding="utf-8"), encoding="utf-8")
    bad = folder / "warszawa.toml"
    bad.write_text((CONFIGS / "warszawa.toml").read_text(encoding="utf-8").replace('id = "greedy-threshold"', 'id = "lottery"'),
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["load-configs", str(folder)], env={"PB_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert f"{bad}: rounds.2026.rule.id: unknown rule 'lottery'" in result.stderr
    assert "created" in result.stdout and "toulouse" in result.stdout  # the good file still loaded


def test_db_upgrade(sqlite_url):
    result = run(["db", "upgrade"], sqlite_url)
    assert result.exit_code == 0 and "upgraded to head" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    # Generous: this checks that serve answers, not how fast; a fresh worker's first page (templates, catalogues)
    # took over 5 s on a machine loaded to 10 by parallel tests.
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.status, resp.read().decode("utf-8")


@pytest.mark.slow
def test_serve_answers_home_page_and_healthz(tmp_path):
    """`pb-engine serve` as a subprocess: schema, configs, demo, gunicorn; then / and /healthz answer."""
    port = _free_port()
    env = {**os.environ, "PB_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    exe = Path(sys.executable).with_name("pb-engine")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pb_engine.cli"]
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--configs", str(CONFIGS)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        output = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail("serve exited early:\n" + "".join(output))
            output.append(line)
            if "pb_engine serving on" in line:
                break
        else:
            pytest.fail("serve did not start in time:\n" + "".join(output))
        assert f"pb_engine serving on http://127.0.0.1:{port}" in line
        said = "".join(output)  # the demo's real rounds, Warszawa announced before its few seconds
        assert "importing the real round Poland_Warszawa_2026.pb" in said, said
        assert "warszawa/2026/citywide (Pabulib, 61668 ballots) imported" in said, said
        status, body = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "taipei/2026" in body and "voting" in body
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and '"status":"ok"' in body.replace(" ", "")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
