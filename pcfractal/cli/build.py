"""``build``: the whole pipeline in one command (categories -> instances -> scenes), each
stage in a sub-folder of --out. It runs the stage subcommands themselves, so a stage's
output equals what running it alone gives."""

from __future__ import annotations

import time
from pathlib import Path

from pcfractal.pointclouds.instances import InstanceSettings
from pcfractal.core.normalize import check_threshold
from pcfractal.pointclouds.presets import PRESETS, preset
from pcfractal.pointclouds.category_file import CATEGORY_FILE
from ._common import add_common, check_writable_parent, common_argv, positive_int, summary


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="the whole pipeline: categories, instances and scenes",
        description="Run every stage into sub-folders of --out. --preset tiny is the demo; --preset paper "
        "is PC-FractalDB-1k (1,000 categories x 1,000 instances at threshold 0.15, 10,000 scenes).",
    )
    p.add_argument("--preset", default="tiny", choices=list(PRESETS), help="build size (default tiny)")
    p.add_argument("--count", type=positive_int, help="categories (default: the preset's)")
    p.add_argument("--per-category", type=positive_int, help="instances per category (default: the preset's)")
    p.add_argument("--scenes", type=positive_int, help="scenes (default: the preset's)")
    p.add_argument("--threshold", type=float, help="variance threshold (default: the preset's, 0.15)")
    p.add_argument("--ratio", type=float, default=0.8, help="FractalNoiseMix main share (default 0.8)")
    add_common(p, "output folder (gets categories/, instances/ and scenes/)")
    p.set_defaults(func=run)


def stage_argv(args) -> list[tuple[str, list[str]]]:
    """The subcommand line of every stage; instances and scenes share the instance options."""
    common = common_argv(args)
    out: Path = args.out
    cats_dir = str(out / "categories")
    cats = ["categories", "--preset", args.preset, "--out", cats_dir, *common]
    cats += ["--count", str(args.count)] if args.count else []
    cats += ["--threshold", str(args.threshold)] if args.threshold is not None else []
    objects = ["--preset", args.preset, "--categories", cats_dir, "--ratio", str(args.ratio)]
    objects += ["--per-category", str(args.per_category)] if args.per_category else []
    insts = ["instances", *objects, "--out", str(out / "instances"), *common]
    scenes = ["scenes", *objects, "--out", str(out / "scenes"), *common]
    scenes += ["--count", str(args.scenes)] if args.scenes else []
    return [("categories", cats), ("instances", insts), ("scenes", scenes)]


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
        if args.dry_run and name != "categories" and not (args.out / "categories" / CATEGORY_FILE).is_file():
            print("  (planned after the categories exist: run 'build' without --dry-run, or this stage's own --dry-run later)")
            continue
        code = main(argv)
        if code:
            return code
    if not args.dry_run:
        summary(f"build: done in {time.perf_counter() - t0:.1f} s -> {args.out}", [(n, args.out / n) for n, _ in stages])
    return 0
