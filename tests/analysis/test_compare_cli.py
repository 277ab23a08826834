"""`pb-engine compare ROUNDS --currency C [--rates FILE] [--csv]`: the comparison's figures from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from pb_engine.cli import main
from pb_engine.importer import import_file

PB = Path(__file__).resolve().parents[1] / "data" / "pabulib" / "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb"


def test_compare_command_in_a_chosen_currency(db, db_url, tmp_path):
    done = import_file(db, PB)
    ref = f"{done.city}/{done.round}"
    rates = tmp_path / "rates.toml"
    rates.write_text('base = "EUR"\ndate = 2025-01-31\n[rates]\nPLN = "4"\n')
    run = CliRunner().invoke(main, ["compare", ref, "--currency", "eur", "--rates", str(rates), "--database", db_url])
    assert run.exit_code == 0, run.output
    body = json.loads(run.output)
    f = body["rounds"][0]["figures"]
    assert body["currency"] == "EUR" and f["in_currency"]["budget"] == round(51195 / 4, 2)
    assert f["ballot_length"]["ballots"] == 27 and f["rules"]["official"]["fairness"]["voters"] == 27
    as_csv = CliRunner().invoke(main, ["compare", ref, "--rates", str(rates), "--csv", "--database", db_url])
    row = next(csv.DictReader(io.StringIO(as_csv.output)))
    assert row["chosen_currency"] == "EUR" and row["official:funded"] == str(f["rules"]["official"]["funded"])
    bad = CliRunner().invoke(main, ["compare", ref, "--currency", "JPY", "--rates", str(rates), "--database", db_url])
    assert bad.exit_code == 1 and "no exchange rate for JPY" in bad.output
