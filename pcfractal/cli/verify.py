"""``verify DIR``: recheck a finished build against its ``manifest.json`` (size, sha256 and
schema of every file, tar shards read through, no unexpected file) and name each problem.

DIR is a build folder, or a folder of stage folders (what ``build`` writes). Exit 0 when
everything matches, 1 when something is wrong (each problem on one line of stderr)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pcfractal.io import manifest
from ._common import CliError, fmt_bytes, summary


def register(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="recheck a build against its manifest (sha256 of every file)",
        description="Rehash every file of a build and compare with manifest.json: names missing, "
        "truncated or corrupted files, unreadable shards and files the manifest does not list.",
    )
    p.add_argument("folder", type=Path, help="a build folder (or the --out of 'build', holding stage folders)")
    p.set_defaults(func=run)


def run(args) -> int:
    folder: Path = args.folder
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder")
    builds = manifest.find_builds(folder)
    if not builds:
        raise CliError(f"{folder}: no {manifest.MANIFEST_FILE} here or in its sub-folders; is it a pcfractal build?")
    t0 = time.perf_counter()
    bad = 0
    rows = []
    for b in builds:
        problems = manifest.verify(b)
        where = b.relative_to(folder).as_posix() if b != folder else "."
        if problems:
            bad += len(problems)
            for p in problems:
                print(f"{b / p.path}: {p.what}", file=sys.stderr)
            rows.append((where, f"{len(problems)} problem(s)"))
        else:
            m = manifest.load(b)
            rows.append((where, f"ok: {m['kind']}, {m['total_files']:,} files, {fmt_bytes(m['total_bytes'])}"))
    summary(f"verify: {folder} ({time.perf_counter() - t0:.1f} s)", rows)
    if bad:
        print(f"verify: {bad} problem(s) in {folder}; run the same build command again to repair it "
              "(damaged and missing files are made again, good ones kept)", file=sys.stderr)
        return 1
    return 0
