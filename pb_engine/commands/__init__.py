"""CLI commands, one module per area. Each module exposes `commands`: a list of click commands.

Process-wide settings belong here, in the CLI that owns its process, never in library
code (a server's threads and a notebook share one process with it).
"""

from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic GC paused meanwhile: parsing a large .pb file builds ~10 objects per ballot and none
    of them cycle, so the pauses of the collector halve its time (Warszawa 2026: 1.0 s -> 0.5 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_highs_quiet = False


def quiet_highs_banner() -> None:
    """HiGHS prints a banner on stdout (the C-level file descriptor) at its first construction in a process,
    whatever its options; it would corrupt `pb-engine allocate --json`. Construct it once with fd 1 muted."""
    global _highs_quiet
    if _highs_quiet:
        return
    try:
        import highspy
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _highs_quiet = True
