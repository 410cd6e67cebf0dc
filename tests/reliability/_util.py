"""Helpers for the reliability tests: compare trees, run the CLI in-process or as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from pcfractal.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOOL = REPO / "tools" / "build_pcfractal.py"
CATS = ["--count", "4", "--threshold", "0.05", "--seed", "3"]
SMALL = ["--per-category", "8", "--points", "1000", "--seed", "5"]  # many quick kill points
LARGE = ["--per-category", "400", "--seed", "5"]  # long enough to kill from outside


STATE_DIR = ".pcfractal"  # the build's own state (marker, lock, journal): not output


def tree(folder: Path) -> dict[str, bytes]:
    """Every output file below ``folder``: relative POSIX path -> bytes (the state folder
    ``.pcfractal/`` excluded: its journal records the history of runs, not the output)."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and STATE_DIR not in p.relative_to(folder).parts
    }


def assert_same_tree(a: Path, b: Path) -> None:
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb), (
        f"file lists differ: only in {a}: {sorted(set(ta) - set(tb))}, only in {b}: {sorted(set(tb) - set(ta))}"
    )
    diff = [k for k in ta if ta[k] != tb[k]]
    assert not diff, f"bytes differ: {diff}"


def assert_no_partial_final_file(folder: Path) -> None:
    """Every final-named file reads completely (npy loads, json parses)."""
    for p in Path(folder).rglob("*"):
        if not p.is_file() or p.name.endswith(".partial"):
            continue
        if p.suffix == ".npy":
            np.load(p)
        elif p.suffix == ".json":
            json.loads(p.read_text())


def cli(*argv, env: dict | None = None, timeout: float = 300, driver: Path | None = None) -> subprocess.CompletedProcess:
    """Run the tool (or a driver script wrapping it) as a separate process."""
    cmd = [sys.executable, str(driver or TOOL), *map(str, argv)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=REPO)


def run_main(capsys, *argv) -> tuple[int, str, str]:
    """Run the tool in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
