"""Run work units in worker processes behind one small interface.

``executor.imap(fn, args_iterable)`` calls ``fn(*args)`` for each tuple and yields the results
**in input order**, keeping at most ``window`` units in flight, so it can consume an endless
stream of units (the category search) and stop early. Results never depend on the number
of workers: every unit derives its randomness from its own key (``pcfractal.keys``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None) -> int:
    """Resolve ``None``/0 to all cores; reject negatives."""
    if workers is None or workers == 0:
        return default_workers()
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (0 = all cores), got {workers}")
    return int(workers)


class LocalExecutor:
    """In-process (workers == 1) or a pool of local worker processes."""

    def __init__(self, workers: int | None = 1, window: int | None = None):
        self.workers = check_workers(workers)
        self.window = window or 2 * self.workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method))
        return self._pool

    def imap(self, fn: Callable, args: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*a)`` for every ``a`` in ``args``, in order."""
        if self.workers == 1:
            for a in args:
                yield fn(*a)
            return
        pool = self._get_pool()
        pending: deque = deque()
        it = iter(args)
        try:
            for a in it:
                pending.append(pool.submit(fn, *a))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
