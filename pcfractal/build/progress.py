"""Progress and messages of a build, on stderr, at the verbosity the user chose.

On a terminal: a tqdm bar. Elsewhere (nohup, Slurm, CI logs): one line every
``interval`` seconds (``PCFRACTAL_PROGRESS_SECONDS``, default 10) with the count, the rate
and the time left, so a long build is never silent. ``quiet`` prints errors only; ``verbose`` adds details (plans, notes, per-step times).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from tqdm import tqdm

from .plan import fmt_seconds

QUIET, NORMAL, VERBOSE = 0, 1, 2


@dataclass
class Log:
    """Where messages go. ``level``: QUIET, NORMAL or VERBOSE; ``interval``: seconds between
    progress lines when stderr is not a terminal."""

    level: int = NORMAL
    interval: float = field(default_factory=lambda: float(os.environ.get("PCFRACTAL_PROGRESS_SECONDS", "10")))
    stream: object = None

    @property
    def out(self):
        return self.stream or sys.stderr

    def info(self, msg: str) -> None:
        if self.level >= NORMAL:
            print(msg, file=self.out, flush=True)

    def detail(self, msg: str) -> None:
        if self.level >= VERBOSE:
            print(msg, file=self.out, flush=True)

    def warn(self, msg: str) -> None:
        print(f"warning: {msg}", file=self.out, flush=True)

    def progress(self, total: int, desc: str, unit: str) -> "Progress":
        return Progress(self, total, desc, unit)


class Progress:
    """``update(n)`` after each finished unit; a context manager."""

    def __init__(self, log: Log, total: int, desc: str, unit: str):
        self.log, self.total, self.desc, self.unit = log, total, desc, unit
        self.n = 0
        self.t0 = self.last = time.monotonic()
        tty = hasattr(log.out, "isatty") and log.out.isatty()
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=log.out, dynamic_ncols=True) if tty and log.level >= NORMAL else None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
        elif exc[0] is None and self.n and time.monotonic() - self.t0 >= self.log.interval:
            self._line()

    def set_total(self, total: int) -> None:
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def update(self, k: int = 1, **postfix) -> None:
        self.n += k
        if self.bar is not None:
            self.bar.update(k)
            if postfix:
                self.bar.set_postfix(**postfix, refresh=False)
            return
        now = time.monotonic()
        if now - self.last >= self.log.interval:
            self.last = now
            self._line(postfix)

    def _line(self, postfix: dict | None = None) -> None:
        elapsed = time.monotonic() - self.t0
        rate = self.n / elapsed if elapsed > 0 else 0.0
        left = f", ~{fmt_seconds((self.total - self.n) / rate)} left" if rate > 0 and self.total > self.n else ""
        extra = "".join(f", {k} {v}" for k, v in (postfix or {}).items())
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        self.log.info(f"{self.desc}: {self.n:,}/{self.total:,} {self.unit}{pct}, {rate:,.1f} {self.unit}/s{left}{extra}")
