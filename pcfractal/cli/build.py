"""``build``: the whole pipeline in one command (categories -> instances -> scenes when
available), each stage in a sub-folder of --out. It runs the stage subcommands themselves,
so a stage's output equals what running it alone gives."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from ..instances import InstanceSettings
from ..normalize import check_threshold
from ..presets import PRESETS, preset
from ._common import add_common, check_writable_parent, positive_int, summary


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="the whole pipeline: categories, instances (and scenes)",
        description="Run every stage into sub-folders of --out. --preset tiny is the demo; --preset paper "
        "is PC-FractalDB-1k (1,000 categories x 1,000 instances at threshold 0.15).",
    )
    p.add_argument("--preset", default="tiny", choices=list(PRESETS), help="build size (default tiny)")
    p.add_argument("--count", type=positive_int, help="categories (default: the preset's)")
    p.add_argument("--per-category", type=positive_int, help="instances per category (default: the preset's)")
    p.add_argument("--threshold", type=float, help="variance threshold (default: the preset's, 0.15)")
    p.add_argument("--ratio", type=float, default=0.8, help="FractalNoiseMix main share (default 0.8)")
    add_common(p, "output folder (gets categories/, instances/ and scenes/)")
    p.set_defaults(func=run)


def stage_argv(args) -> list[tuple[str, list[str]]]:
    common = ["--seed", str(args.seed), "--workers", str(args.workers)] + (["--overwrite"] if args.overwrite else [])
    sized = ["--preset", args.preset]
    out: Path = args.out
    cats = ["categories", *sized, "--out", str(out / "categories"), *common]
    if args.count:
        cats += ["--count", str(args.count)]
    if args.threshold is not None:
        cats += ["--threshold", str(args.threshold)]
    insts = ["instances", *sized, "--categories", str(out / "categories"), "--ratio", str(args.ratio), "--out", str(out / "instances"), *common]
    if args.per_category:
        insts += ["--per-category", str(args.per_category)]
    stages = [("categories", cats), ("instances", insts)]
    if importlib.util.find_spec("pcfractal.cli.scenes") is not None:
        stages.append(("scenes", ["scenes", *sized, "--categories", str(out / "categories"), "--out", str(out / "scenes"), *common]))
    return stages


def run(args) -> int:
    from . import main

    # Validate everything before the first stage writes anything.
    preset(args.preset)
    check_threshold(args.threshold if args.threshold is not None else PRESETS[args.preset]["threshold"])
    InstanceSettings(ratio=args.ratio).validate()
    check_writable_parent(args.out)
    t0 = time.perf_counter()
    stages = stage_argv(args)
    for name, argv in stages:
        print(f"== {name}")
        code = main(argv)
        if code:
            return code
    summary(f"build: done in {time.perf_counter() - t0:.1f} s -> {args.out}", [(n, args.out / n) for n, _ in stages])
    return 0
