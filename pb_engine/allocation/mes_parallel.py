"""add1 on several cores: the runs at successive budgets per voter are independent, so workers
compute them ahead (worker w takes raises w, w + W, w + 2W, ...) while the caller reads them in
order and applies the stop rule exactly as the serial loop does. The answer is the same; only
the time changes (about 1.8x on two idle cores for Warszawa 2026).

It forks (Linux), so it is used only from the main thread of a process (CLI, benchmarks, tests,
batch jobs), never from a web request thread, only for elections big enough to pay the fork,
and only when a core is idle (load average); see `workers_for`.
"""

from __future__ import annotations

import os
import threading
from fractions import Fraction

_JOB = None   # (prep, increment, exhaustive_stop, workers): set before forking, read by the children

BIG = 2_000_000   # ballots x projects above which a second core pays for the fork


def workers_for(prep, requested) -> int:
    if requested is not None:
        return max(1, int(requested))
    if threading.current_thread() is not threading.main_thread():
        return 1
    try:
        import multiprocessing
        multiprocessing.get_context("fork")
        if multiprocessing.current_process().daemon:
            return 1   # daemonic processes (e.g. a Pool's workers) may not start children
        cpus = len(os.sched_getaffinity(0))
    except (ValueError, AttributeError, OSError, ImportError):
        return 1
    if prep.problem.n_voters * len(prep.problem.costs) < BIG or cpus < 2:
        return 1
    try:
        # a second worker only pays when a core is idle; on a busy machine it costs (measured: 1.5x slower)
        if os.getloadavg()[0] > cpus - 0.5:
            return 1
    except OSError:
        return 1
    return 2


def threads_for(requested) -> int:
    """Threads for add1's compiled runs (mes._add1_compiled): `workers` if given (at most 2: one more
    thread runs blocks of raises ahead), else 2 when this process may use two cores and one is idle
    (load average), as above: on a busy machine a second thread only competes; and 1 in a worker
    process of a pool."""
    if requested is not None:
        return max(1, min(int(requested), 2))
    try:
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            return 1   # one of several worker processes (pb-engine analyse): they already share the cores
        cpus = len(os.sched_getaffinity(0))
        if cpus < 2 or os.getloadavg()[0] > cpus - 0.5:
            return 1
    except (AttributeError, OSError):
        return 1
    return 2


def _stops(prep, selected, total, exhaustive_stop, supported) -> bool:
    from pb_engine.allocation.mes import is_exhaustive

    return total > prep.budget or supported <= set(selected) or (exhaustive_stop and is_exhaustive(prep, selected))


def _worker(w: int, queue, stop_at) -> None:
    from pb_engine.allocation import mes_engine as E
    from pb_engine.allocation.mes import endowment

    prep, increment, exhaustive_stop, workers = _JOB
    P = prep.problem
    supported = prep.supported()
    k = w
    try:
        while k <= stop_at.value:
            if k == 0:
                r = E.run(P, endowment(prep, k, increment))
            else:
                r = E.run(P, endowment(prep, k, increment), budget=prep.budget, exhaustive=exhaustive_stop)
            sel = tuple(r.selected) if r.complete else None
            queue.put((k, (tuple(r.selected), sel), r.total_cost.numerator, r.total_cost.denominator))
            if _stops(prep, r.selected, r.total_cost, exhaustive_stop, supported):   # partial runs answer alike
                break   # the caller stops at or before k: nothing beyond it is needed
            k += workers
    finally:
        queue.put((None, w, 0, 1))
        queue.close()
        queue.join_thread()


def add1_parallel(prep, increment: Fraction, exhaustive_stop: bool, workers: int):
    """Like `mes.add1`, with selected lists for runs: (final selected or None if that run stopped
    early, raises, plain selected)."""
    import multiprocessing

    from pb_engine.allocation.mes import is_exhaustive

    global _JOB
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    stop_at = ctx.Value("q", 2 ** 62, lock=False)
    supported = prep.supported()
    _JOB = (prep, increment, exhaustive_stop, workers)
    procs = [ctx.Process(target=_worker, args=(w, queue, stop_at), daemon=True) for w in range(workers)]
    try:
        for p in procs:
            p.start()
        results: dict[int, tuple] = {}
        done_workers = 0
        k = 0
        last = plain = None
        while True:
            while k not in results:
                item = queue.get()
                if item[0] is None:
                    done_workers += 1
                    if done_workers == workers and k not in results:
                        raise RuntimeError("add1 workers stopped early")
                    continue
                kk, (part, full), num, den = item
                results[kk] = (list(part), None if full is None else list(full), Fraction(num, den))
            sel, full, total = results.pop(k)
            if k == 0:
                plain = last = full
                if _stops(prep, sel, total, exhaustive_stop, supported) and total <= prep.budget:
                    return last, 0, plain
                k = 1
                continue
            if total > prep.budget:
                return last, k - 1, plain
            last = full          # None when the run stopped early: the caller recomputes it
            if supported <= set(sel) or (exhaustive_stop and is_exhaustive(prep, sel)):
                return last, k, plain
            k += 1
    finally:
        stop_at.value = -1
        _JOB = None
        import queue as queue_mod
        import time

        deadline = time.monotonic() + 10
        while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
            try:   # keep the pipe drained so that no worker blocks on a full one while exiting
                queue.get(timeout=0.05)
            except queue_mod.Empty:
                pass
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
