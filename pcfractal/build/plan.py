"""What a build will cost, and the limits checked before any work: free disk space for the
whole plan, memory per work unit against the memory available, and the worker count.

Every check raises ``BuildError`` with one line that names the flag to change.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

FREE_SPACE_MARGIN = 64 * 2**20  # kept free beyond a plan's bytes: 10% of it, between 1 and 64 MiB
PROCESS_BYTES = 300 * 2**20  # a worker process with numpy and the compiled kernels loaded
MAX_WORKERS = 1024  # more local processes than this is a typo, not a plan


class BuildError(Exception):
    """A user-facing build error: printed as one line; nothing of value was lost."""


@dataclass
class Plan:
    """What a stage is expected to write and cost.

    files/bytes: the output (without the manifest); units: work units; unit_seconds: one
    unit on one core (measured by a probe, None = unknown); unit_bytes: peak memory of one
    unit in a worker; serial_seconds: work that does not spread over workers; notes: extra
    ``"name: value"`` lines for --dry-run; memory_flag: the flag that sets the unit size,
    named when one unit cannot fit in memory.
    """

    files: int
    bytes: int
    units: int
    unit_seconds: float | None = None
    unit_bytes: int = 0
    serial_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    memory_flag: str = "--workers"

    def seconds(self, workers: int) -> float | None:
        if self.unit_seconds is None:
            return None
        return math.ceil(self.units / max(1, workers)) * self.unit_seconds + self.serial_seconds


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"  # pragma: no cover


def fmt_seconds(s: float) -> str:
    if s < 90:
        return f"{s:,.1f} s"
    if s < 2 * 3600:
        return f"{s / 60:,.1f} min"
    if s < 2 * 86400:
        return f"{s / 3600:,.1f} h"
    return f"{s / 86400:,.1f} days"


def existing_ancestor(path: Path) -> Path:
    p = Path(path).absolute()
    while not p.exists():
        p = p.parent
    return p


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(existing_ancestor(path)).free


def check_free_space(path: Path, need: int, what: str = "the build") -> None:
    """Fail when the file system of ``path`` has less than ``need`` bytes (+ a margin) free."""
    margin = min(FREE_SPACE_MARGIN, max(2**20, need // 10))
    free = free_bytes(path)
    if need + margin > free:
        raise BuildError(
            f"not enough free space: {what} needs about {fmt_bytes(need)} more, {existing_ancestor(path)} has "
            f"{fmt_bytes(free)} free; free some space, choose another --out or a smaller build (--dry-run shows the plan)"
        )


def available_memory() -> int:
    """Memory the build may use: MemAvailable (Linux), else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None) -> int:
    """Resolve ``None``/0 to all cores; reject negatives and absurd counts."""
    if workers is None or workers == 0:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise BuildError(f"--workers must be a whole number >= 0 (0 = all cores), got {workers!r}")
    if workers > MAX_WORKERS:
        raise BuildError(f"--workers {workers} is more than {MAX_WORKERS}; this machine has {default_workers()} cores (0 = all of them)")
    return int(workers)


def fit_workers(plan: Plan, workers: int, local: bool = True) -> tuple[int, list[str]]:
    """Workers the plan can run with: at most the units, at most the cores (local
    processes), and as many as fit in the available memory. One unit that cannot fit
    at all raises ``BuildError`` naming ``plan.memory_flag``."""
    notes = []
    avail = available_memory()
    if plan.unit_bytes + PROCESS_BYTES > avail:
        raise BuildError(
            f"{plan.memory_flag}: one work unit needs about {fmt_bytes(plan.unit_bytes)} of memory, "
            f"{fmt_bytes(avail)} is available; choose a smaller value"
        )
    w = workers
    if local and w > default_workers():
        notes.append(f"--workers {w} capped to this machine's {default_workers()} cores")
        w = default_workers()
    if plan.units and w > plan.units:
        w = max(1, plan.units)
    fits = max(1, int(avail // (plan.unit_bytes + PROCESS_BYTES)))
    if w > fits:
        notes.append(
            f"--workers {w} reduced to {fits}: each worker needs ~{fmt_bytes(plan.unit_bytes + PROCESS_BYTES)}, {fmt_bytes(avail)} available"
        )
        w = fits
    return w, notes


def array_bytes(*shape: int, itemsize: int = 8) -> int:
    """Bytes of an array of ``shape`` (Python ints: no overflow for absurd sizes)."""
    n = itemsize
    for s in shape:
        n *= int(s)
    return n
