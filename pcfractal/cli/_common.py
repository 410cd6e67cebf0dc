"""Shared CLI pieces: common options, output folders, progress bars, summaries."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from .. import __version__, atomic, keys
from ..executor import LocalExecutor, check_workers

BUILD_MARKER = ".pcfractal-build.json"


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
    """--seed, --workers, --out, --overwrite: the same on every build subcommand."""
    p.add_argument("--seed", type=seed_arg, default=0, help="the one seed every random draw derives from (default: 0)")
    p.add_argument("--workers", type=int, default=0, help="worker processes; 0 = all cores (default). Output bytes do not depend on it")
    p.add_argument("--out", type=Path, required=True, help=out_help)
    p.add_argument("--overwrite", action="store_true", help="replace an existing, different build in --out")


def executor_for(args) -> LocalExecutor:
    """The executor the options ask for (local processes)."""
    return LocalExecutor(check_workers(args.workers))


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
        self.marker = {"kind": kind, "settings": settings, "pcfractal_version": __version__}
        self.overwrite = overwrite
        self.resumed = False

    def open(self) -> "OutputDir":
        p = self.path
        if p.exists() and not p.is_dir():
            raise CliError(f"output {p} exists and is not a folder")
        if p.is_dir() and any(p.iterdir()):
            marker = p / BUILD_MARKER
            same = marker.is_file() and _read_json(marker) == self.marker
            if same:
                self.resumed = True
                atomic.remove_partials(p)
                return self
            if not self.overwrite:
                raise CliError(f"output folder {p} is not empty and holds another build; choose a new --out or pass --overwrite")
            shutil.rmtree(p)
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
