"""Schemathesis finds no server error (5xx) anywhere in the API and no response that breaks the schema or
media type the OpenAPI document gives for it; bounded so that it runs in about a minute.
For a longer run: `python scripts/fuzz_api.py --examples 200` (or PB_FUZZ_EXAMPLES=200 pytest this file)."""

from __future__ import annotations

from fuzzing import build_schema, checks_from_env, fuzz, max_examples, seed


def test_no_server_error(app, api, cities):
    n = max_examples(6)
    stats = fuzz(build_schema(app, seed(api, cities), n), n, checks=checks_from_env())
    print(f"\nschemathesis: {stats['operations']} operations, {stats['cases']} cases, "
          f"{len(stats['failures'])} failures (server errors, schema violations); statuses {dict(sorted(stats['statuses'].items()))}")
    assert stats["operations"] >= 25
    assert not stats["failures"], "\n".join(stats["failures"])
    assert not [code for code in stats["statuses"] if code >= 500]
