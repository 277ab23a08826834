#!/usr/bin/env python
"""Longer schemathesis run against the API, on SQLite and (with PB_TEST_POSTGRES_URL) PostgreSQL.

    .venv/bin/python scripts/fuzz_api.py --examples 200
    PB_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python scripts/fuzz_api.py -n 100

Every operation of /api/openapi.json gets N positive and N negative cases
(path parameters steered to real objects half of the time, with a mix of
tokens); the checks: no response is a server error, and every response matches
the schema and media type the document gives for its status (`--checks` picks
from server, schema, content_type, status, headers). It runs the test
tests/json_api/test_fuzz_api.py with PB_FUZZ_EXAMPLES=N (and PB_FUZZ_CHECKS) and
prints the figures. Not stateful: the document declares no OpenAPI links, so
schemathesis' state machine would have no transitions; the path parameters are
steered to the seeded objects instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--examples", type=int, default=100, help="cases per operation and mode (default 100)")
    parser.add_argument("--random", action="store_true",
                        help="new random cases each run (default: the same derandomized cases as the test)")
    parser.add_argument("--checks", default="server,schema,content_type",
                        help="comma-separated: server, schema, content_type, status, headers (default: %(default)s)")
    args = parser.parse_args()
    env = {**os.environ, "PB_FUZZ_EXAMPLES": str(args.examples), "PB_FUZZ_CHECKS": args.checks}
    if args.random:
        env["PB_FUZZ_RANDOM"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/json_api/test_fuzz_api.py"]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
