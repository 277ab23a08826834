"""Schemathesis finds no server error (5xx) anywhere in the API and no response that breaks the schema or
media type the OpenAPI document gives for it; bounded so that it runs in about a minute.
The second test plays schemathesis' state machine over the document's OpenAPI links (about 25 scenarios).
For longer runs: `python scripts/fuzz_api.py --examples 200 --scenarios 300` (or PB_FUZZ_EXAMPLES=200,
PB_FUZZ_SCENARIOS=300 pytest this file)."""

from __future__ import annotations

import os

from fuzzing import build_schema, checks_from_env, focused, fuzz, fuzz_stateful, max_examples, seed, stateful_line


def test_no_server_error(app, api, cities):
    n = max_examples(6)
    stats = fuzz(build_schema(app, seed(api, cities), n), n, checks=checks_from_env())
    print(f"\nschemathesis: {stats['operations']} operations, {stats['cases']} cases, "
          f"{len(stats['failures'])} failures (server errors, schema violations); statuses {dict(sorted(stats['statuses'].items()))}")
    assert stats["operations"] >= 25
    assert not stats["failures"], "\n".join(stats["failures"])
    assert not [code for code in stats["statuses"] if code >= 500]


def test_stateful_no_server_error(app, api, cities):
    """Scenarios that follow the OpenAPI links: a voter session's token casts a ballot whose receipt is
    checked, a new proposal's id is edited and endorsed, new codes open voter sessions, ... Links that
    chain real ids and tokens are followed and some of their calls succeed; no 5xx, no schema violation."""
    scenarios = int(os.environ.get("PB_FUZZ_SCENARIOS", 25))
    world = focused(seed(api, cities, voting_round=True), cities)
    stats = fuzz_stateful(build_schema(app, world, scenarios, steer=0.9), scenarios,
                          steps=int(os.environ.get("PB_FUZZ_STEPS", 8)), checks=checks_from_env(),
                          inferred=bool(os.environ.get("PB_FUZZ_INFERRED")))
    print("\n" + stateful_line(stats))
    for link, (followed, ok) in sorted(stats["links"].items()):
        print(f"  {followed:3} followed, {ok:3} 2xx: {link}")
    assert stats["linked"] > 0, "no call followed an OpenAPI link"
    assert any(ok for _, ok in stats["links"].values()), "no linked call succeeded"
    assert not stats["failures"], "\n".join(stats["failures"])
