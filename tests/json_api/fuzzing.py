"""Schemathesis against the app's own OpenAPI document: shared by tests/api/test_fuzz_api.py and scripts/fuzz_api.py.

The schema's path parameters are steered half of the time to real cities,
rounds, proposals, outcomes and districts (random slugs only ever reach the
404 branch), and every request carries one of several tokens (admin,
reviewer, another city's admin, a resident, a voter, garbage or none), so
that generated bodies reach the code behind the authorisation checks.

`fuzz_stateful` runs schemathesis' state machine: scenarios of a few calls that follow the document's
OpenAPI links (api/resources/_links.py: a voter session's token into the ballot PUT, a new proposal's
id into its edit, endorsement and comments, ...), so later calls of a scenario use real ids and tokens.
The world then also holds a round in voting (2028), whose ballot a voter session's token can cast.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

from apihelp import advance_to, make_round, populated_round, voter_token_during_voting


def seed(api, tokens, *, voting_round: bool = False) -> dict:
    state = populated_round(api, tokens, voters=3)
    make_round(api, tokens, slug="2027")
    api.post("/api/v1/cities/alpha/rounds/2027/advance", token=tokens["alpha_admin"])
    # The round is in tally, when a code opens no session: the fuzzer's voter opened one before the close.
    voter = voter_token_during_voting(api.client.application, state["codes_left"]["north"][0])
    world = {
        "city": ["alpha", "beta"], "round": ["2026", "2027"],
        "proposal_id": state["ids"]["north"] + state["ids"]["south"],
        "outcome_id": [state["outcome"]["id"]], "district": ["north", "south"],
        "receipt": state["receipts"][:1],
        "tokens": [tokens["alpha_admin"], tokens["alpha_reviewer"], tokens["beta_admin"], state["resident"], voter,
                   "pbs_not-a-token", "garbage", None],
        "body": {},
    }
    if voting_round:
        world["round"].append(_voting_round(api, tokens, state["resident"], world))
    return world


def focused(world: dict, tokens: dict) -> dict:
    """The world of the stateful run: the city with rounds (alpha; beta's admin still knocks on it), the
    round in voting and the one in submission first, the tokens that can make something (admin, resident)
    before the ones that are refused: a scenario's first call must succeed for its links to lead anywhere."""
    resident = world["tokens"][3]
    return {**world, "city": ["alpha"], "round": ["2028", "2027", "2026"],
            "tokens": [tokens["alpha_admin"], resident] * 3 + [tokens["alpha_reviewer"], tokens["beta_admin"], None]}


def _voting_round(api, tokens, resident: str, world: dict) -> str:
    """Round 2028 in voting, its proposals on the ballot: the stateful run's voter sessions cast ballots there.
    Bodies are steered half of the time to these projects and districts and to the resident's login."""
    base, admin = "/api/v1/cities/alpha/rounds/2028", tokens["alpha_admin"]
    make_round(api, tokens, slug="2028")
    advance_to(api, tokens, "submission", round="2028")
    ids = []
    for i, district in enumerate(["north", "north", "south"]):
        r = api.post(f"{base}/proposals", json={"title": f"Stateful {i}", "district": district,
                                                "estimated_cost": 10_000, "categories": ["parks"]}, token=resident)
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
    advance_to(api, tokens, "review", round="2028")
    for pid in ids:
        r = api.patch(f"{base}/proposals/{pid}", json={"reviewed_cost": 10_000, "feasible": True,
                                                       "status": "on_ballot"}, token=admin)
        assert r.status_code == 200, r.get_json()
    advance_to(api, tokens, "voting", round="2028")
    world["proposal_id"] += ids
    codes = api.post(f"{base}/access-codes", json={"district": "north", "count": 30}, token=admin).get_json()["codes"]
    world["body"] = {"district": ["north", "south"], "projects": [ids[:1], ids[:2], ids[2:]],
                     "access_code": codes, "username": ["resi"], "password": ["correct horse"]}
    return "2028"


def build_schema(app, world: dict, max_examples: int, *, steer: float = 0.5):
    """The app's schema with hooks that steer path parameters and some body fields to the world's real
    objects with probability `steer` (the rest stays random), and send one of the world's tokens."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=max_examples, allow_x00=True, no_shrink=True)
    tenths = round(steer * 10)

    def steered_or(random_value, steered):
        return st.integers(0, 9).flatmap(lambda n: steered if n < tenths else st.just(random_value))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        choices = {k: st.sampled_from(world[k]) for k in path_parameters if world.get(k)}
        if not choices:
            return st.just(path_parameters)
        return steered_or(path_parameters, st.fixed_dictionaries(
            {k: choices.get(k, st.just(v)) for k, v in path_parameters.items()}))

    @schema.hook
    def flatmap_body(context, body):
        keys = [k for k in world.get("body", {}) if isinstance(body, dict) and k in body]
        if not keys:
            return st.just(body)
        # Real projects make an approval ballot only without the generated points and ranking beside them
        rest = {k: v for k, v in body.items() if "projects" not in keys or k not in ("points", "ranking")}
        return steered_or(body, st.fixed_dictionaries(
            {k: st.sampled_from(world["body"][k]) for k in keys}).map(lambda steered: {**rest, **steered}))

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
            "headers": checks.response_headers_conformance,
            # stateful only: a resource a POST just made (201) answers 404 along a link
            "availability": checks.ensure_resource_availability}


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


def fuzz_stateful(schema, scenarios: int, *, steps: int = 8, checks=DEFAULT_CHECKS, inferred: bool = False) -> dict:
    """Run `scenarios` state-machine scenarios of up to `steps` calls each; every response is checked as in
    `fuzz`. Besides the failures, counts the calls that followed a link (`linked`) and, per link, how often
    it was followed and how often the call it made succeeded (2xx): a link whose calls never succeed
    chains nothing. `inferred`: also the links schemathesis infers from names (`id` of a proposal to
    `{proposal_id}`, ...); without it only the document's own links, a shorter and more focused run."""
    from hypothesis import HealthCheck, settings

    if not inferred:
        schema.config.phases.stateful.inference.algorithms = []

    chosen = [CHECKS[name] for name in checks]
    stats = {"scenarios": 0, "calls": 0, "linked": 0, "failures": [], "statuses": {}, "links": {},
             "operations": set()}
    base = schema.as_state_machine()

    class Machine(base):
        def setup(self):
            stats["scenarios"] += 1

        def step(self, input):
            output = super().step(input)
            if input.transition is not None and input.applied_parameters:
                stats["linked"] += 1
                ok = 200 <= output.response.status_code < 300
                followed, succeeded = stats["links"].get(input.transition.id, (0, 0))
                stats["links"][input.transition.id] = (followed + 1, succeeded + ok)
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            stats["calls"] += 1
            stats["operations"].add(case.operation.label)
            code = response.status_code
            stats["statuses"][code] = stats["statuses"].get(code, 0) + 1
            if os.environ.get("PB_FUZZ_TRACE"):
                print(code, case.operation.label, case.path_parameters, str(case.body)[:80],
                      (case.headers or {}).get("Authorization", "")[:20], response.text[:100])
            try:
                case.validate_response(response, checks=chosen, transport_kwargs=kwargs or None,
                                       recorder=self.recorder)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect, report all at the end
                parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
                why = " | ".join(" ".join(str(e).split())[:300] for e in parts)
                stats["failures"].append(f"{case.operation.label} [stateful] -> {code}: {why}\n"
                                         f"    {case.as_curl_command()[:600]}")

    from hypothesis.errors import FlakyStrategyDefinition

    # The server's state changes under the run, so a scenario that Hypothesis replays may take another
    # turn (a 201 where there was a 409): Hypothesis then stops with FlakyStrategyDefinition. The run goes
    # on with fresh random scenarios for what is left (at most 5 times), and says how often it restarted.
    stats["restarts"], derandomize = 0, not os.environ.get("PB_FUZZ_RANDOM")
    while True:
        left = scenarios - stats["scenarios"]
        try:
            Machine.run(settings=settings(max_examples=max(left, 1), stateful_step_count=steps, deadline=None,
                                          database=None, suppress_health_check=list(HealthCheck),
                                          derandomize=derandomize))
            break
        except FlakyStrategyDefinition:
            stats["restarts"] += 1
            derandomize = False
            if stats["restarts"] > 5 or scenarios - stats["scenarios"] <= 0:
                break
    stats["operations"] = len(stats["operations"])
    return stats


def stateful_line(stats: dict) -> str:
    followed = sum(f for f, _ in stats["links"].values())
    succeeded = sum(s for _, s in stats["links"].values())
    return (f"schemathesis stateful: {stats['scenarios']} scenarios, {stats['calls']} calls on "
            f"{stats['operations']} operations, {stats['linked']} calls followed a link "
            f"({len(stats['links'])} links used, {succeeded} of {followed} linked calls 2xx), "
            f"{len(stats['failures'])} failures; statuses {dict(sorted(stats['statuses'].items()))}"
            + (f"; {stats['restarts']} restarts (a replayed scenario met a changed server)" if stats["restarts"] else ""))


def checks_from_env() -> tuple[str, ...]:
    return tuple(c for c in os.environ.get("PB_FUZZ_CHECKS", ",".join(DEFAULT_CHECKS)).split(",") if c)


def max_examples(default: int) -> int:
    return int(os.environ.get("PB_FUZZ_EXAMPLES", default))
