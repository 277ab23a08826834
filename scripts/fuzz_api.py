#!/usr/bin/env python
"""Longer schemathesis run against the API, on SQLite and (with PB_TEST_POSTGRES_URL) PostgreSQL.

    .venv/bin/python scripts/fuzz_api.py --examples 200 --scenarios 300
    .venv/bin/python scripts/fuzz_api.py --stateful --scenarios 500 --inferred
    PB_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python scripts/fuzz_api.py -n 100

Two runs, the tests of tests/json_api/test_fuzz_api.py with larger numbers:

- every operation of /api/openapi.json gets N positive and N negative cases (path parameters steered to
  real objects half of the time, with a mix of tokens);
- stateful: schemathesis' state machine plays scenarios of up to --steps calls that follow the
  document's OpenAPI links (api/resources/_links.py): new access codes open a voter session, its token
  casts a ballot, the receipt is checked; a login's token proposes, a new proposal's id is edited,
  endorsed and commented, a comment hidden; a new round is read, edited, advanced; ... The world has a
  round in voting (2028) and one in submission (2027); path parameters and some body fields (district,
  projects, access code, the resident's login) are steered to real values 9 times in 10. `--inferred`
  adds the links schemathesis infers from parameter names.

The checks, in both: no response is a server error, and every response matches the schema and media
type the document gives for its status (`--checks` picks from server, schema, content_type, status,
headers). The figures are printed per database, and for the stateful run per link: how often it was
followed and how often the call it made succeeded. PB_FUZZ_TRACE=1 prints every stateful call.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/json_api/test_fuzz_api.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--examples", type=int, default=100, help="cases per operation and mode (default 100)")
    parser.add_argument("--scenarios", type=int, default=200, help="stateful scenarios (default 200)")
    parser.add_argument("--steps", type=int, default=8, help="most calls in one stateful scenario (default 8)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stateful", action="store_true", help="only the stateful run")
    which.add_argument("--no-stateful", action="store_true", help="only the run per operation")
    parser.add_argument("--inferred", action="store_true",
                        help="stateful: also the links schemathesis infers, besides the document's own")
    parser.add_argument("--random", action="store_true",
                        help="new random cases each run (default: the same derandomized cases as the test)")
    parser.add_argument("--checks", default="server,schema,content_type",
                        help="comma-separated: server, schema, content_type, status, headers, availability (stateful: 'a just-made resource answers 404') (default: %(default)s)")
    args = parser.parse_args()
    env = {**os.environ, "PB_FUZZ_EXAMPLES": str(args.examples), "PB_FUZZ_CHECKS": args.checks,
           "PB_FUZZ_SCENARIOS": str(args.scenarios), "PB_FUZZ_STEPS": str(args.steps)}
    if args.random:
        env["PB_FUZZ_RANDOM"] = "1"
    if args.inferred:
        env["PB_FUZZ_INFERRED"] = "1"
    select = ["-k", "stateful"] if args.stateful else ["-k", "not stateful"] if args.no_stateful else []
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "no:xdist", TEST, *select]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
