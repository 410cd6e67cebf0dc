"""``categories``: search 3D IFS categories by the variance check, write the category file,
its gallery picture and a stats report."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .. import ifs, report
from ..normalize import check_threshold
from ..presets import preset
from ..search import SearchSettings, search_categories
from ..store import CATEGORY_FILE, CategorySet
from ._common import OutputDir, add_common, check_writable_parent, executor_for, positive_int, progress, summary

GALLERY_FILE = "gallery.png"
STATS_FILE = "stats.json"
STATS_MD = "stats.md"


def register(sub) -> None:
    p = sub.add_parser(
        "categories",
        help="search fractal categories (variance check)",
        description="Rejection-sample 3D IFS systems (the authors' uniform sampler) and keep those whose "
        "normalised 10,000-point cloud has every per-axis variance above --threshold.",
    )
    p.add_argument("--count", type=positive_int, help="categories to find (default: the preset's)")
    p.add_argument("--preset", default="tiny", help="tiny (8), small (100) or paper (1,000 at 0.15); default tiny")
    p.add_argument("--threshold", type=float, help="variance threshold in (0, 1/3]; 0.15 = the paper (default), 0.05 = the authors' scripts")
    p.add_argument("--points-per-trial", type=positive_int, default=10_000, help="chaos-game points per candidate (default 10,000)")
    p.add_argument("--sampler", default="uniform", choices=sorted(ifs.SAMPLERS), help="system sampler (default: the authors' uniform)")
    p.add_argument("--burn-in", type=int, default=0, help="chaos-game steps dropped first (default 0, like the authors)")
    p.add_argument("--no-screen", action="store_true", help="run every candidate's full 10,000 points (exact but ~5x slower); see README")
    p.add_argument("--max-candidates", type=positive_int, default=None, help="give up after this many candidates")
    add_common(p, "output folder: categories.json, gallery.png, stats.json, stats.md")
    p.set_defaults(func=run)


def settings_from_args(args) -> tuple[int, SearchSettings]:
    pre = preset(args.preset)
    count = args.count or pre["categories"]
    threshold = check_threshold(args.threshold if args.threshold is not None else pre["threshold"])
    s = SearchSettings(
        threshold=threshold,
        n_points=args.points_per_trial,
        sampler=args.sampler,
        burn_in=args.burn_in,
        screen_points=0 if args.no_screen else SearchSettings.screen_points,
    ).validate()
    return count, s


def run(args) -> int:
    count, s = settings_from_args(args)
    check_writable_parent(args.out)
    settings = {**dataclasses.asdict(s), "count": count}
    out = OutputDir(args.out, "categories", {"seed": args.seed, **settings}, args.overwrite).open()
    if out.resumed and out.file(CATEGORY_FILE).is_file() and out.file(STATS_FILE).is_file():
        print(f"{args.out}: already complete")
        return 0
    t0 = time.perf_counter()
    with executor_for(args) as ex, progress(count, "categories", "cat") as bar:
        def tick(n_found, res):
            bar.update(n_found - bar.n)
            bar.set_postfix(tried=f"{(res.block + 1) * s.block_size:,}")

        result = search_categories(count, args.seed, s, executor=ex, progress=tick, max_candidates=args.max_candidates)
    elapsed = time.perf_counter() - t0
    search_info = {
        "tried": result.tried,
        "diverged": result.diverged,
        "blocks": result.blocks,
        "acceptance_rate": result.acceptance_rate,
    }  # no timings in files: the same build gives the same bytes
    cats = CategorySet(
        [c.params for c in result.categories],
        args.seed,
        settings,
        [{"block": c.block, "offset": c.offset, "variances": [float(v) for v in c.variances]} for c in result.categories],
        search_info,
    )
    write_reports(out, cats, np.array([c.variances for c in result.categories]), search_info)
    cats.save(out.file(CATEGORY_FILE))  # written last: its presence marks a finished build
    summary(
        f"categories: {count} found in {elapsed:.1f} s -> {args.out}",
        [
            ("threshold", s.threshold),
            ("candidates tried", f"{result.tried:,}"),
            ("diverged", f"{result.diverged:,} ({result.diverged / result.tried:.1%})"),
            ("acceptance rate", f"{result.acceptance_rate:.4%}"),
            ("maps per system", report.category_stats(cats.systems, None, {})["n_maps_histogram"]),
            ("files", f"{CATEGORY_FILE}, {GALLERY_FILE}, {STATS_FILE}, {STATS_MD}"),
        ],
    )
    return 0


def write_reports(out: OutputDir, cats: CategorySet, variances, search_info: dict) -> None:
    """Gallery picture and stats of a category set."""
    from .. import atomic

    atomic.write_bytes(out.file(GALLERY_FILE), report.gallery_png(cats.systems, seed=cats.seed or 0))
    stats = report.category_stats(cats.systems, variances, search_info)
    atomic.write_json(out.file(STATS_FILE), stats)
    atomic.write_text(out.file(STATS_MD), report.stats_markdown("Category search", stats))
