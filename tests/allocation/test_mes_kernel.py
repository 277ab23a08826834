"""The compiled MES kernel (mes_kernel.py) against the exact engine (mes_engine.py): a run the kernel
decides funds exactly what the exact run funds, in the same order; one it cannot decide says so
(UNSURE) and add1 then runs the exact engine there; add1 through the kernel is the plain loop."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import oracle  # noqa: E402
from strategies import dear_projects, elections  # noqa: E402

from pb_engine.allocation import allocate  # noqa: E402
from pb_engine.allocation import mes_engine as E  # noqa: E402
from pb_engine.allocation import mes_kernel as K  # noqa: E402
from pb_engine.allocation.instance import Instance, Project  # noqa: E402
from pb_engine.allocation.mes import _verdict, add1, add1_plain, endowment, prepare  # noqa: E402
from pb_engine.allocation.tiebreak import by_id, explicit  # noqa: E402
from pb_engine.ballots.kinds import ApprovalBallot, Profile, VoteType  # noqa: E402

pytestmark = pytest.mark.skipif(not K.INSTALLED, reason="numba is not installed: add1 runs on the exact engine alone")

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"


ELECTIONS = st.one_of(elections(min_cost=0), dear_projects())


def _prep(election, satisfaction):
    instance, profile = election
    return prepare(instance, profile, satisfaction, by_id(p.id for p in instance.projects))


def _check(prep, kern, e, budget=None, exhaustive=False):
    """The kernel's run at e against the exact one; returns the kernel's status."""
    P = prep.problem
    status, sel = kern.run(float(e), None if budget is None else float(budget), exhaustive)
    if status == K.UNSURE:
        return status
    exact = E.run(P, e)
    if status == K.DONE:
        assert sel == exact.selected
        return status
    # an early stop: what it funded so far is the exact run's beginning, and its add1 verdict is the exact run's
    assert sel == exact.selected[:len(sel)]
    partial = E.Run(e, sel, sum((P.costs[c] for c in sel), Fraction(0)), complete=False)
    if status == K.OVER:
        assert partial.total_cost > budget and exact.total_cost > budget
    else:
        assert status == K.GO
        supported = prep.supported()
        assert _verdict(prep, partial, exhaustive, supported) == "go" == _verdict(prep, exact, exhaustive, supported)
    return status


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.integers(0, 40), st.booleans(), st.booleans())
def test_a_decided_run_is_the_exact_run(election, satisfaction, raises, watch, exhaustive):
    if not election[1].ballots:
        return
    prep = _prep(election, satisfaction)
    kern = K.Kernel(prep.problem)
    for k in range(0, raises + 1, 3):   # one kernel for several runs, as add1 uses it (its hint is the run before)
        _check(prep, kern, endowment(prep, k), prep.budget if watch else None, exhaustive)


@SETTINGS
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.booleans(),
       st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(3)]))
def test_add1_through_the_kernel_is_the_plain_loop(election, satisfaction, exhaustive_stop, increment):
    if not election[1].ballots:
        return
    prep = _prep(election, satisfaction)
    stats = {}
    final, k, plain = add1(prep, increment, exhaustive_stop, stats=stats)
    ref_final, ref_k, ref_plain = add1_plain(prep, increment, exhaustive_stop)
    assert (final.selected, k, plain.selected) == (ref_final.selected, ref_k, ref_plain.selected)
    assert final.endowment == ref_final.endowment and final.total_cost == ref_final.total_cost
    # one run per raise read (k + 1, and the one over budget if that ended it), and maybe the final run made
    # complete again after an early stop
    assert k + 1 <= stats["runs"] <= k + 3
    assert 0 <= stats["exact"] <= stats["runs"]


def _approval(budget, costs: dict, ballots):
    inst = Instance(Fraction(budget), tuple(Project(i, Fraction(c)) for i, c in costs.items()))
    return inst, Profile(VoteType.APPROVAL, tuple(ApprovalBallot(frozenset(b)) for b in ballots))


def test_an_exact_tie_of_prices_is_broken_by_the_tie_order():
    # A and B cost 30 each, 4 voters approve both and hold 16: 1/4 per unit of utility each (cost
    # satisfaction), exactly; the tie order says which goes first
    inst, prof = _approval(64, {"A": 30, "B": 30}, [{"A", "B"}] * 4)
    for order in (["A", "B"], ["B", "A"]):
        prep = prepare(inst, prof, "cost", explicit(order))
        status, sel = K.Kernel(prep.problem).run(float(endowment(prep)))
        assert status == K.DONE and [prep.ids[c] for c in sel] == order


U = 2 ** 70
BROKE_TIE = [
    # Found by a search over small elections: at some step two projects' prices per unit of utility are
    # exactly equal, and one of them has supporters who hold nothing; the kernel compares cost / (rich
    # units x weight) in integers (no tie left to Python), and the tie order decides the outcome.
    pytest.param(21, {"A": 3, "B": 5, "C": 11, "D": 1}, [{"A", "B", "D"}, {"B", "C", "D"}, {"C"}, {"A", "B", "C"}],
                 "cost", ((["A", "B", "C", "D"], ["B", "C", "A"]), (["D", "C", "B", "A"], ["C", "B", "D"])), 0,
                 id="in-integers"),
    # The same kind of tie with costs near 2**72 (cardinality: the price per unit of utility is the cost per
    # rich supporter): the kernel hands it to Python (TIE), which compares rationals and lets it go on.
    pytest.param(27 * U, {"A": 6 * U, "B": 7 * U, "C": 7 * U},
                 [{"C"}, {"A"}, {"A"}, {"B"}, {"A"}, {"A", "B", "C"}, {"B", "C"}],
                 "cardinality", ((["A", "B", "C"], ["A", "B"]), (["C", "B", "A"], ["A", "C"])), 1,
                 id="in-rationals"),
]


@pytest.mark.parametrize("budget, costs, ballots, satisfaction, cases, ties", BROKE_TIE)
def test_a_tie_with_broke_supporters_is_settled_exactly(budget, costs, ballots, satisfaction, cases, ties):
    inst, prof = _approval(budget, costs, ballots)
    for order, funded in cases:
        prep = prepare(inst, prof, satisfaction, explicit(order))
        kern = K.Kernel(prep.problem)
        e = endowment(prep)
        status, sel = kern.run(float(e))
        assert status == K.DONE and sel == E.run(prep.problem, e).selected
        assert [prep.ids[c] for c in sel] == funded and kern.ties == ties


def test_a_run_the_bounds_cannot_settle_goes_to_the_exact_engine():
    # Everyone's share is exactly what a voter holds (3 voters x 10 = the cost 30): whether they can pay is
    # decided by an equality the floats cannot prove, so the kernel says UNSURE and add1 runs it exactly.
    inst, prof = _approval(30, {"A": 30, "B": Fraction(1, 3)}, [{"A"}] * 3)
    prep = prepare(inst, prof, "cost", by_id(["A", "B"]))
    assert K.Kernel(prep.problem).run(float(endowment(prep)))[0] == K.UNSURE
    stats = {}
    final, k, plain = add1(prep, Fraction(1), True, stats=stats)
    ref = add1_plain(prep, Fraction(1), True)
    assert (final.selected, k, plain.selected) == (ref[0].selected, ref[1], ref[2].selected)
    assert stats["exact"] >= 1


REPO_FILES = sorted(p.name for p in DATA.glob("*.pb"))


@pytest.mark.parametrize("name", REPO_FILES)
def test_the_kernel_decides_the_runs_of_real_files_as_the_exact_engine(name):
    """Every 9th raise of add1 (cost and cardinality) on every file of the repo's set: the kernel decides
    each run (its bounds are tight enough on real data) and funds what the exact engine funds."""
    inst, prof = oracle.read(name)
    for satisfaction in ("cost", "cardinality"):
        prep = prepare(inst, prof, satisfaction, by_id(p.id for p in inst.projects))
        kern = K.Kernel(prep.problem)
        _, k, _ = add1(prep, Fraction(1), True, complete=False)
        step = 9 if len(prof.ballots) < 20_000 else 40
        for j in range(0, k + 2, step):
            assert _check(prep, kern, endowment(prep, j)) == K.DONE, (satisfaction, j)


@pytest.mark.parametrize("name", ["France_Toulouse_2022.pb", "Poland_Warszawa_2026.pb"])
def test_add1_on_the_largest_files_needs_no_exact_run(name):
    # the outcome itself is held against pabutools by the oracle tests; here: the kernel decided every raise
    inst, prof = oracle.read(name)
    prep = prepare(inst, prof, "cost", by_id(p.id for p in inst.projects))
    stats = {}
    add1(prep, Fraction(1), True, stats=stats)
    assert stats["exact"] == 0 and stats["runs"] > 150


def test_switched_off_add1_is_the_exact_engines(monkeypatch):
    inst, prof = oracle.read("Poland_Wieliczka_2023_Green_Budget.pb")
    tie = by_id(p.id for p in inst.projects)
    fast = allocate(inst, prof, "mes", completion="add1", tie_breaking=tie)
    monkeypatch.setenv("PB_MES_KERNEL", "0")
    assert not K.available()
    stats = {}
    add1(prepare(inst, prof, "cost", tie), Fraction(1), True, workers=1, stats=stats)
    assert "exact" not in stats   # the exact engine's own loop
    assert allocate(inst, prof, "mes", completion="add1", tie_breaking=tie).to_dict() == fast.to_dict()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.sampled_from(["cost", "cardinality"]), st.booleans(), st.integers(1, 5))
def test_add1_with_a_second_thread_reads_the_same_runs(election, satisfaction, exhaustive_stop, block):
    """Blocks of raises run ahead on another thread (mes._add1_compiled with threads=2, here with tiny
    blocks so that small elections cross several): the loop reads them in order, the plain loop's answer."""
    if not election[1].ballots:
        return
    from pb_engine.allocation import mes

    prep = _prep(election, satisfaction)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mes, "MIN_THREADED_RUN", 0.0)
        mp.setattr(mes, "BLOCK_SECONDS", 1e-9 * block)   # one raise per block (min 1), or a few
        stats = {}
        last, k, plain, runs = mes._add1_compiled(prep, Fraction(1), exhaustive_stop, stats, threads=2)
    ref_final, ref_k, ref_plain = add1_plain(prep, Fraction(1), exhaustive_stop)
    assert (k, plain.selected) == (ref_k, ref_plain.selected)
    # the last run read may have stopped early (sure to go on): add1 then makes it complete
    assert last.selected == (ref_final.selected if last.complete else ref_final.selected[:len(last.selected)])
    if k or runs > 1:
        assert stats["threads"] == 2


def test_add1_on_warszawa_with_two_threads_is_the_one_thread_answer():
    inst, prof = oracle.read("Poland_Warszawa_2026.pb")
    prep = prepare(inst, prof, "cost", by_id(p.id for p in inst.projects))
    one, two = {}, {}
    a = add1(prep, Fraction(1), True, workers=1, stats=one)
    b = add1(prep, Fraction(1), True, workers=2, stats=two)
    assert (a[0].selected, a[1], a[2].selected) == (b[0].selected, b[1], b[2].selected)
    assert (one["threads"], two["threads"]) == (1, 2)


def test_importing_the_engine_leaves_numba_for_the_first_kernel():
    # the web service and the CLI import pb_engine.allocation on every start; numba costs about 0.15 s
    import subprocess

    code = ("import sys, pb_engine.allocation as a; print('numba' in sys.modules); "
            "from pb_engine.allocation import mes_kernel as K; print(K.available())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_kernel_runs_where_numba_cannot_cache_it():
    # an install whose package folder is read-only and whose user has no cache folder: numba finds no place
    # for its cache ("no locator available"); the kernel then compiles in each process instead of failing
    import subprocess

    code = ("import numba.core.caching as C\n"
            "for loc in C.CacheImpl._locator_classes:\n"
            "    loc.from_function = classmethod(lambda cls, py_func, py_file: None)\n"
            "from pb_engine.allocation import mes_kernel as K\n"
            "K.warm(); print('ran')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.split() == ["ran"], out.stderr[-2000:]


def test_threads_for_add1_follow_workers_and_stay_one_in_a_pools_worker():
    from concurrent.futures import ProcessPoolExecutor

    from pb_engine.allocation.mes_parallel import threads_for

    assert [threads_for(w) for w in (1, 2, 8)] == [1, 2, 2]   # one helper thread at most
    with ProcessPoolExecutor(1) as pool:   # a worker of pb-engine analyse: its siblings share the cores
        assert pool.submit(threads_for, None).result() == 1


def test_prepare_leaves_out_a_vote_for_a_project_not_on_the_ballot():
    # the approval path builds supporter lists with numpy; a ballot naming an unknown id counts only its others
    inst, prof = _approval(10, {"A": 4, "B": 6}, [{"A", "Z"}, {"A", "B"}, {"Z"}])
    P = prepare(inst, prof, "cost", by_id(["A", "B"])).problem
    clean = prepare(inst, Profile(VoteType.APPROVAL, tuple(ApprovalBallot(frozenset(b - {"Z"})) for b in
                                                          ({"A", "Z"}, {"A", "B"}, {"Z"}))), "cost",
                    by_id(["A", "B"])).problem
    assert P.sup_voters == clean.sup_voters == [2, 1]
    assert K.Kernel(P).run(float(Fraction(10, 3)))[1] == K.Kernel(clean).run(float(Fraction(10, 3)))[1]
