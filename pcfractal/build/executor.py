"""Run work units in local worker processes or on Ray behind one small interface.

``executor.imap(fn, args_iterable)`` calls ``fn(*args)`` for each tuple and yields the results
**in input order**, keeping at most ``window`` units in flight, so it can consume an endless
stream of units (the category search) and stop early. Results never depend on the number
of workers: every unit derives its randomness from its own key (``pcfractal.core.keys``).

``make_executor(workers, ray=..., ray_address=...)`` picks local processes
(``LocalExecutor``), a local Ray started for the build or an existing Ray cluster
(``RayExecutor``); the CLI's ``--workers/--ray/--ray-address`` map onto it.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

from .plan import check_workers, default_workers  # noqa: F401  (default_workers: public here too)


def _die_with_parent() -> None:
    """Worker initializer: the kernel kills this worker when the main process dies, even by
    kill -9 (Linux prctl PR_SET_PDEATHSIG), so no orphan keeps writing into the folder."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still applies
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


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

    def check(self) -> None:
        """Nothing to check for local processes (Ray checks its install here)."""

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method), initializer=_die_with_parent)
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


class RayExecutor:
    """The same ``imap`` on Ray: a local Ray started for the build, or an existing cluster.

    Every unit is a Ray task; results come back in input order with at most ``window``
    tasks in flight, so the output never depends on which node ran what or when it
    finished. Ray re-runs a task whose worker died (``max_retries``), which is safe because
    every unit is idempotent: it derives its randomness from its key, writes its files
    under a temporary name and renames them into place, and skips files already there.

    Args:
        address: ``None`` (default) starts a local Ray with ``workers`` CPUs; otherwise the
            address of a running cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``).
        workers: CPUs of the local Ray (``None``/0 = all cores); ignored for a cluster.
        window: tasks in flight (default: twice the cluster's CPUs).
        max_retries: re-runs of a task whose worker process died (default 3).
        object_store_mb: object store of a local Ray in MiB (default 256; units return
            small summaries, the data goes to files).

    A local Ray started here stays up for the rest of the process (so the stages of
    ``build`` share it) and is shut down at exit. The code must be importable on every
    node (``pip install pcfractal`` there).
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        window: int | None = None,
        max_retries: int = 3,
        object_store_mb: int = 256,
    ):
        self.address = address
        self.local_cpus = check_workers(workers)
        self._window = window
        self.max_retries = int(max_retries)
        self.object_store_mb = int(object_store_mb)
        self._remote_cache: dict = {}
        self._workers = self.local_cpus if address is None else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check(self) -> None:
        """Fail before any output exists when Ray is not installed."""
        try:
            import ray  # noqa: F401
        except ImportError:
            raise RuntimeError("--ray needs Ray: pip install 'pcfractal[ray]'") from None

    def close(self) -> None:
        self._remote_cache.clear()

    def _ray(self):
        try:
            import ray
        except ImportError:
            raise RuntimeError("--ray needs Ray: pip install 'ray>=2.9' (or pip install 'pcfractal[ray]')") from None
        if not ray.is_initialized():
            import logging

            if self.address is None:
                ray.init(
                    address="local",
                    num_cpus=self.local_cpus,
                    include_dashboard=False,
                    object_store_memory=self.object_store_mb * 2**20,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                )
            else:
                try:
                    ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
                except (ConnectionError, ValueError, RuntimeError) as e:
                    raise RuntimeError(
                        f"cannot connect to the Ray cluster at {self.address!r}: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}; "
                        "check the address (ray status on the head node) and, for a cluster with token authentication, "
                        "set RAY_AUTH_MODE=token here too (Ray then reads RAY_AUTH_TOKEN or ~/.ray/auth_token)"
                    ) from None
        if self._workers is None:
            self._workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return ray

    @property
    def workers(self) -> int:
        """CPUs the work spreads over (a cluster's are counted on connecting)."""
        if self._workers is None:
            self._ray()
        return self._workers

    @property
    def window(self) -> int:
        return self._window or 2 * self.workers

    def _remote(self, ray, fn: Callable):
        r = self._remote_cache.get(fn)
        if r is None:
            r = ray.remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)(fn)
            self._remote_cache[fn] = r
        return r

    def imap(self, fn: Callable, args: Iterable[tuple]) -> Iterator:
        """Yield ``fn(*a)`` for every ``a`` in ``args``, in order."""
        ray = self._ray()
        remote = self._remote(ray, fn)
        pending: deque = deque()
        it = iter(args)
        try:
            for a in it:
                pending.append(remote.remote(*a))
                if len(pending) >= self.window:
                    yield _ray_get(ray, pending.popleft())
            while pending:
                yield _ray_get(ray, pending.popleft())
        finally:
            for ref in pending:
                try:
                    ray.cancel(ref, force=False)
                except Exception:  # already finished or gone
                    pass


def _ray_get(ray, ref):
    """``ray.get`` that re-raises a task's own exception type (ValueError, OSError...)."""
    from ray.exceptions import RayError, RayTaskError

    try:
        return ray.get(ref)
    except RayTaskError as e:
        cause = getattr(e, "cause", None)  # the task's own exception (errno and all)
        if not isinstance(cause, BaseException):
            cause = e.as_instanceof_cause()
        raise cause from None
    except RayError as e:  # worker died more often than max_retries, node lost...
        raise RuntimeError(f"Ray task failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def make_executor(workers: int | None = 1, ray: bool = False, ray_address: str | None = None, window: int | None = None):
    """The executor for a build: local processes (default), a local Ray (``ray=True``) or
    an existing Ray cluster (``ray_address``). All three give the same results."""
    if ray_address:
        return RayExecutor(address=ray_address, window=window)
    if ray:
        return RayExecutor(address=None, workers=workers, window=window)
    return LocalExecutor(workers, window=window)


def describe(executor) -> str:
    """A short human description (for summaries and --dry-run)."""
    if isinstance(executor, RayExecutor):
        where = "local Ray" if executor.address is None else f"Ray cluster {executor.address}"
        return f"{where}, {executor.workers} CPUs"
    return f"{executor.workers} local worker process{'es' if executor.workers != 1 else ''}"
