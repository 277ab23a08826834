"""Writers of one SQLite file take turns before they ask SQLite for its write lock.

SQLite has one writer at a time. A connection that finds the write lock taken polls for it in its
busy handler, sleeping 1, 2, 5, 10 … up to 100 ms between tries, so under load a writer can lose to
the others many times over, and the last ones wait far longer than the writes take (the p99 of the
ballots under gunicorn's several worker processes). Queued here instead, a writer wakes as soon as
the one before it is done:

- the threads of one process queue on a `threading.Lock`;
- the processes (gunicorn's workers) queue on an exclusive `flock` of a file beside the database
  (`<file>-writer`), which the kernel hands to the next process the moment it is released, and
  releases by itself when a process dies (a SIGKILLed worker leaves no lock behind).

PostgreSQL locks rows, so writers of different voters run side by side there: no turn is taken.
An in-memory database is one process's own: the thread lock alone.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Any, Iterator

try:
    import fcntl
except ImportError:  # not POSIX: the processes meet on SQLite's own lock, as before
    fcntl = None

_turns: "weakref.WeakKeyDictionary[Any, _Turn]" = weakref.WeakKeyDictionary()
_turns_lock = threading.Lock()


class _Turn:
    def __init__(self, path: str | None):
        self.threads = threading.Lock()
        self.fd = None
        if path and fcntl is not None:
            self.fd = os.open(path + "-writer", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            # One descriptor per process: gunicorn forks after the app is built, so a descriptor opened in the
            # parent would be shared by the children, and a shared descriptor shares its flock.
            self.pid = os.getpid()
        self.path = path

    def __del__(self):
        if self.fd is not None and self.pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self.fd)

    def _fd(self) -> int | None:
        if self.fd is not None and self.pid != os.getpid():
            self.fd = os.open(self.path + "-writer", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            self.pid = os.getpid()
        return self.fd

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.threads:
            fd = self._fd()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


def _file_of(db) -> str | None:
    path = db.engine.url.database
    return None if not path or path == ":memory:" or path.startswith("file:") else os.path.abspath(path)


def writer_turn(db):
    """A context manager: this writer's turn at `db` (a store.db.Database); nothing to wait for on PostgreSQL."""
    if db.dialect != "sqlite":
        return contextlib.nullcontext()
    with _turns_lock:
        turn = _turns.get(db)
        if turn is None:
            turn = _turns[db] = _Turn(_file_of(db))
    return turn()
