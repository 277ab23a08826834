"""Schemathesis against the app's own OpenAPI document: shared by tests/api/test_fuzz_api.py and scripts/fuzz_api.py.

The schema's path parameters are steered half of the time to real cities,
rounds, proposals, outcomes and districts (random slugs only ever reach the
404 branch), and every request carries one of several tokens (admin,
reviewer, another city's admin, a resident, a voter, garbage or none), so
that generated bodies reach the code behind the authorisation checks.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

from apihelp import make_round, populated_round, voter_token_during_voting


def seed(api, tokens) -> dict:
    state = populated_round(api, tokens, voters=3)
    make_round(api, tokens, slug="2027")
    api.post("/api/v1/cities/alpha/rounds/2027/advance", token=tokens["alpha_admin"])
    # The round is in tally, when a code opens no session: the fuzzer's voter opened one before the close.
    voter = voter_token_during_voting(api.client.application, state["codes_left"]["north"][0])
    return {
        "city": ["alpha", "beta"], "round": ["2026", "2027"],
        "proposal_id": state["ids"]["north"] + state["ids"]["south"],
        "outcome_id": [state["outcome"]["id"]], "district": ["north", "south"],
        "receipt": state["receipts"][:1],
        "tokens": [tokens["alpha_admin"], tokens["alpha_reviewer"], tokens["beta_admin"], state["resident"], voter,
                   "pbs_not-a-token", "garbage", None],
    }


def build_schema(app, world: dict, max_examples: int):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=max_examples, allow_x00=True, no_shrink=True)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        steered = dict(path_parameters)
        choices = {k: st.sampled_from(world[k]) for k in path_parameters if world.get(k)}
        if not choices:
            return st.just(path_parameters)
        return st.one_of(st.just(path_parameters),
                         st.fixed_dictionaries({k: choices.get(k, st.just(v)) for k, v in steered.items()}))

    @schema.hook
    def flatmap_headers(context, headers):
        headers = dict(headers or {})
        return st.sampled_from(world["tokens"]).map(
            lambda t: {**headers, "Authorization": f"Bearer {t}"} if t else headers)

    return schema


def _checks() -> dict:
    from schemathesis import checks

    return {"server": checks.not_a_server_error, "schema": checks.response_schema_conformance,
            "content_type": checks.content_type_conformance, "status": checks.status_code_conformance,
            "headers": checks.response_headers_conformance}


CHECKS = _checks()
DEFAULT_CHECKS = ("server", "schema", "content_type")  # no 5xx; every documented answer matches its schema


def fuzz(schema, examples: int, *, modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
         checks=DEFAULT_CHECKS) -> dict:
    """Run every operation with `examples` cases per generation mode; returns counts and the failures of
    `checks` (names of CHECKS: no server error, responses conform to their documented schema and media type).

    Driven with hypothesis directly (schemathesis' pytest plugin does not load under pytest 9).
    """
    from hypothesis import HealthCheck, given, settings

    chosen = [CHECKS[name] for name in checks]

    stats = {"operations": 0, "cases": 0, "failures": [], "statuses": {}}
    for result in schema.get_all_operations():
        op = result.ok()
        stats["operations"] += 1
        for mode in modes:
            strategy = op.as_strategy(generation_mode=mode, hooks=getattr(schema, "hooks", None))

            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                      derandomize=not os.environ.get("PB_FUZZ_RANDOM"))
            @given(case=strategy)
            def run(case):
                stats["cases"] += 1
                response = case.call()
                code = response.status_code
                stats["statuses"][code] = stats["statuses"].get(code, 0) + 1
                try:
                    case.validate_response(response, checks=chosen)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect, report all at the end
                    parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
                    why = " | ".join(" ".join(str(e).split())[:300] for e in parts)
                    stats["failures"].append(f"{op.method.upper()} {op.path} [{mode.value}] -> {code}: "
                                             f"{why}\n    {case.as_curl_command()[:600]}")

            run()
    return stats


def checks_from_env() -> tuple[str, ...]:
    return tuple(c for c in os.environ.get("PB_FUZZ_CHECKS", ",".join(DEFAULT_CHECKS)).split(",") if c)


def max_examples(default: int) -> int:
    return int(os.environ.get("PB_FUZZ_EXAMPLES", default))
