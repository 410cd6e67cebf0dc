"""Shared CLI pieces: common options, executors, output folders (resume, free space,
manifest), --dry-run plans, progress bars, summaries."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from pcfractal import __version__
from pcfractal.io import atomic
from pcfractal.core import keys
from pcfractal.io import manifest as manifest_mod
from pcfractal.build.executor import LocalExecutor, RayExecutor, check_workers, describe, make_executor

BUILD_MARKER = manifest_mod.BUILD_MARKER
FREE_SPACE_MARGIN = 64 * 2**20  # at most this kept free beyond a build's estimate (10% of it, at least 1 MiB)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def seed_arg(text: str) -> int:
    try:
        return keys.check_seed(int(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_common(p: argparse.ArgumentParser, out_help: str) -> None:
    """--seed, --workers, --out, --overwrite, --ray, --ray-address, --dry-run: the same on
    every build subcommand."""
    p.add_argument("--seed", type=seed_arg, default=0, help="the one seed every random draw derives from (default: 0)")
    p.add_argument("--workers", type=int, default=0, help="worker processes; 0 = all cores (default). Output bytes do not depend on it")
    p.add_argument("--out", type=Path, required=True, help=out_help)
    p.add_argument("--overwrite", action="store_true", help="replace an existing, different build in --out")
    p.add_argument("--ray", action="store_true", help="run the work units on a local Ray started for this build (--workers CPUs; needs pip install ray). Same bytes as without")
    p.add_argument("--ray-address", metavar="A", default=None, help="run on an existing Ray cluster: 'auto', 'HOST:6379' or 'ray://HOST:10001' (pcfractal must be installed on every node; --out must be a folder all nodes share)")
    p.add_argument("--dry-run", action="store_true", help="print the expected file count, size and time, check the free space, then stop without writing")


def common_argv(args) -> list[str]:
    """The common options of ``args`` as command-line words (for running a stage of ``build``)."""
    argv = ["--seed", str(args.seed), "--workers", str(args.workers)]
    argv += ["--overwrite"] if getattr(args, "overwrite", False) else []
    argv += ["--ray"] if getattr(args, "ray", False) else []
    argv += ["--ray-address", args.ray_address] if getattr(args, "ray_address", None) else []
    argv += ["--dry-run"] if getattr(args, "dry_run", False) else []
    return argv


def executor_for(args) -> LocalExecutor | RayExecutor:
    """The executor the options ask for: local processes, a local Ray (--ray) or a Ray
    cluster (--ray-address). All give the same bytes."""
    return make_executor(check_workers(args.workers), ray=getattr(args, "ray", False), ray_address=getattr(args, "ray_address", None))


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


def _existing_ancestor(path: Path) -> Path:
    p = Path(path).resolve()
    while not p.exists():
        p = p.parent
    return p


def folder_bytes(path: Path) -> int:
    """Bytes of the files below ``path`` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, f)).st_size
    return total


def check_free_space(path: Path, need: int, margin: int | None = None) -> int:
    """Fail before any work when the file system of ``path`` has less than ``need`` (+ a
    margin: 10% of it, between 1 and 64 MiB) bytes free; return the free bytes."""
    if margin is None:
        margin = min(FREE_SPACE_MARGIN, max(2**20, need // 10))
    where = _existing_ancestor(path)
    free = shutil.disk_usage(where).free
    if need + margin > free:
        raise CliError(
            f"not enough free space for {path}: the build needs about {fmt_bytes(need)} more, "
            f"{where} has {fmt_bytes(free)} free; free some space or choose another --out"
        )
    return free


@dataclass
class Plan:
    """What a build is expected to write and cost: for --dry-run and the free-space check.

    files/bytes: the build's output without the manifest; units: work units;
    unit_seconds: one unit on one core (measured on a small probe, None = unknown);
    serial_seconds: work that does not spread over workers; notes: extra lines to print.
    """

    files: int
    bytes: int
    units: int
    unit_seconds: float | None = None
    serial_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def seconds(self, workers: int) -> float | None:
        if self.unit_seconds is None:
            return None
        waves = math.ceil(self.units / max(1, workers))
        return waves * self.unit_seconds + self.serial_seconds


def plan_workers(args) -> tuple[int, str]:
    """Workers a plan assumes and how to name them (a cluster's size is unknown before
    connecting, so --ray-address plans with --workers or this machine's cores)."""
    w = check_workers(args.workers)
    if getattr(args, "ray_address", None):
        return w, f"{w} CPUs (assumed; the Ray cluster at {args.ray_address} may have more)"
    if getattr(args, "ray", False):
        return w, f"a local Ray with {w} CPUs (+ ~10 s to start it)"
    return w, f"{w} local worker process{'es' if w != 1 else ''}"


def report_plan(args, kind: str, plan: Plan) -> int:
    """Print a --dry-run plan (nothing is written); fail if the space is short."""
    workers, who = plan_workers(args)
    out = Path(args.out)
    have = folder_bytes(out) if out.is_dir() else 0
    free = shutil.disk_usage(_existing_ancestor(out)).free
    secs = plan.seconds(workers)
    rows = [
        ("files", f"{plan.files:,} + {manifest_mod.MANIFEST_FILE}"),
        ("size", f"{fmt_bytes(plan.bytes)} ({plan.bytes:,} bytes)"),
        ("free space", f"{fmt_bytes(free)} at {_existing_ancestor(out)}" + (f" ({fmt_bytes(have)} already in {out})" if have else "")),
        ("work units", f"{plan.units:,}"),
        ("time", f"~{fmt_seconds(secs)} on {who}" if secs is not None else "unknown"),
    ]
    rows += [(k, v) for k, v in (n.split(": ", 1) if ": " in n else ("note", n) for n in plan.notes)]
    summary(f"dry run: {kind} -> {out} (nothing written)", rows)
    check_free_space(out, max(0, plan.bytes - have))
    return 0


@contextlib.contextmanager
def build_errors(out: Path):
    """Turn a full disk, a read-only or unwritable folder met in the middle of a build
    into one clear CliError (the atomic writers have already removed their partial file)."""
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise CliError(f"disk full while writing {out} ({e.filename or e.strerror}); no partial file was kept: free some space and run the same command again to resume") from None
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise CliError(f"cannot write to {out}: {e.strerror} ({e.filename}); fix the permissions and run the same command again to resume") from None
        raise


def progress(total: int, desc: str, unit: str):
    """A tqdm bar on stderr, shown only on a terminal (logs stay clean)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=None, file=sys.stderr, dynamic_ncols=True)


class OutputDir:
    """An output folder that is created only after the input was validated.

    The folder gets a marker holding the build's settings. Running the same command again
    finds the marker with equal settings and resumes (finished files stay, leftover
    ``*.partial`` files go). A folder holding something else is refused unless
    ``overwrite``.
    """

    def __init__(self, path: Path, kind: str, settings: dict, overwrite: bool = False):
        self.path = Path(path)
        # JSON round trip: the marker read back must compare equal (tuples become lists).
        settings = json.loads(atomic.dumps_json(settings))
        self.marker = {"kind": kind, "settings": settings, "pcfractal_version": __version__}
        self.overwrite = overwrite
        self.resumed = False
        self.kind = kind
        self.settings = settings

    def open(self, need_bytes: int | None = None) -> "OutputDir":
        """Create or resume the folder. ``need_bytes`` (the plan's size) is checked against
        the free space first (minus what a resumed build already holds)."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise CliError(f"output {p} exists and is not a folder")
        if p.is_dir() and any(not x.name.endswith(atomic.PARTIAL_SUFFIX) for x in p.iterdir()):
            marker = p / BUILD_MARKER
            same = marker.is_file() and _read_json(marker) == self.marker
            if same:
                if need_bytes is not None:
                    check_free_space(p, max(0, need_bytes - folder_bytes(p)))
                self.resumed = True
                try:
                    atomic.remove_partials(p)
                    self._drop_damaged()
                except OSError as e:
                    raise CliError(f"cannot clean up output folder {p}: {e.strerror or e}") from None
                return self
            if not self.overwrite:
                raise CliError(f"output folder {p} is not empty and holds another build; choose a new --out or pass --overwrite")
            shutil.rmtree(p)
        if need_bytes is not None:
            check_free_space(p, need_bytes)
        if p.is_dir():  # empty, or only a partial marker from a build killed at its first write
            atomic.remove_partials(p)
        created = not p.exists()
        try:
            p.mkdir(parents=True, exist_ok=True)
            atomic.write_json(p / BUILD_MARKER, self.marker)
        except OSError as e:
            if created:
                shutil.rmtree(p, ignore_errors=True)
            raise CliError(f"cannot write to output folder {p}: {e.strerror or e}") from None
        return self

    def file(self, name: str) -> Path:
        return self.path / name

    def _drop_damaged(self) -> None:
        """On resuming a sealed build: delete files whose bytes no longer match the manifest
        (and the manifest), so the build makes them again instead of sealing the damage.
        A sub-folder with damage also loses its ``SHA256SUMS`` and its done-marker
        (``.complete``), so a unit that skips finished folders makes it again."""
        if not (self.path / manifest_mod.MANIFEST_FILE).is_file():
            return
        problems = [pr for pr in manifest_mod.verify(self.path) if not pr.what.startswith("unexpected")]
        if not problems:
            return
        (self.path / manifest_mod.MANIFEST_FILE).unlink()
        for pr in problems:
            p = self.path / pr.path
            if pr.path == manifest_mod.MANIFEST_FILE:
                continue
            print(f"{p}: {pr.what}; making it again", file=sys.stderr)
            if "/" in pr.path.rstrip("/"):
                for marker in (manifest_mod.SUMS_FILE, manifest_mod.FOLDER_DONE):
                    (p.parent / marker).unlink(missing_ok=True)
            if p.is_file():
                p.unlink()

    def complete(self) -> bool:
        """A manifest for exactly this build is present (cheap: nothing is rehashed)."""
        return manifest_mod.is_complete(self.path, self.kind, self.settings)

    def finish(self, counts: dict, expected: list[str] | None = None) -> dict:
        """Seal the build: drop leftover ``*.partial`` files (e.g. from a Ray worker killed
        mid-write), hash every file and write ``manifest.json`` last. ``expected`` lists
        files that must be there (a gap raises). Returns the manifest."""
        with build_errors(self.path):
            atomic.remove_partials(self.path)
            m = manifest_mod.build(self.path, self.kind, self.settings.get("seed"), self.settings, counts, expected)
            manifest_mod.write(self.path, m)
        return m


def _read_json(path: Path):
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_writable_parent(path: Path) -> None:
    """Fail early (before any work) when ``path`` cannot be created."""
    parent = Path(path).resolve()
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"cannot create output folder {path}: {parent} is not writable")


def summary(title: str, rows: list[tuple[str, object]]) -> None:
    """Print a two-column summary to stdout."""
    width = max(len(k) for k, _ in rows)
    print(title)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
