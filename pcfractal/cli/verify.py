"""``verify DIR``: recheck a build against its manifest (size, sha256 and schema of every
file, tar shards read through, no unexpected file); a ``build`` folder: every stage."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pcfractal.build.plan import fmt_bytes
from pcfractal.build.stage import summary
from pcfractal.build.verify import verify_build


def register(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="recheck a build against its manifest (sha256 of every file)",
        description="Rehash every file of a build and compare with manifest.json: names missing, truncated or\n"
        "corrupted files, unreadable shards, files the manifest does not list, and (for the --out of\n"
        "'build') missing stages. Exit 0: all good; 1: problems (one line each on stderr).",
    )
    p.add_argument("folder", type=Path, help="the --out of any pcfractal build")
    p.set_defaults(func=run)


def run(args) -> int:
    t0 = time.perf_counter()
    results = verify_build(args.folder)
    bad = 0
    rows = []
    for where, problems, m in results:
        base = args.folder if where == "." else args.folder / where
        for p in problems:
            print(f"{base / p.path}: {p.what}", file=sys.stderr)
        bad += len(problems)
        if problems:
            rows.append((where, f"{len(problems)} problem(s)"))
        elif m:
            rows.append((where, f"ok: {m['kind']}, {m['total_files']:,} files, {fmt_bytes(m['total_bytes'])}"))
    summary(f"verify: {args.folder} ({time.perf_counter() - t0:.1f} s)", rows)
    if bad:
        problems = [p for _, ps, _ in results for p in ps]
        foreign = [p for p in problems if p.what.startswith("unexpected") and "partial" not in p.what]
        advice = "the same build command repairs them (damaged and missing files are made again, good ones kept)"
        if foreign:
            advice = f"move the {len(foreign)} unexpected file(s) out (pcfractal never deletes files it did not write), then run the same build command again to repair the rest"
        print(f"verify: {bad} problem(s) in {args.folder}; {advice}", file=sys.stderr)
        return 1
    return 0
