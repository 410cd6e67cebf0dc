"""``categories``: search 3D IFS categories by the variance check, write the category file,
its gallery picture and a stats report."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from pcfractal.core import ifs
from pcfractal.pointclouds import report
from pcfractal.core.normalize import check_threshold
from pcfractal.pointclouds.presets import preset
from pcfractal.pointclouds.search import SearchSettings, search_categories
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from pcfractal.pointclouds.search import search_block
from ._common import OutputDir, Plan, add_common, build_errors, check_writable_parent, executor_for, positive_int, progress, report_plan, summary

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
    if args.dry_run:
        return report_plan(args, "categories", plan_categories(count, args.seed, s))
    out = OutputDir(args.out, "categories", {"seed": args.seed, **settings}, args.overwrite).open(need_bytes=plan_categories(count, args.seed, s, probe=False).bytes)
    if out.resumed and all(out.file(f).is_file() for f in (CATEGORY_FILE, GALLERY_FILE, STATS_FILE, STATS_MD)):
        if not out.complete():  # killed after the category file, before the manifest
            seal(out, count)
        print(f"{args.out}: already complete")
        return 0
    t0 = time.perf_counter()
    with build_errors(out.path), executor_for(args) as ex, progress(count, "categories", "cat") as bar:
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
    with build_errors(out.path):
        write_reports(out, cats, np.array([c.variances for c in result.categories]), search_info)
        cats.save(out.file(CATEGORY_FILE))  # its presence marks a finished search
    seal(out, count)
    summary(
        f"categories: {count} found in {elapsed:.1f} s -> {args.out}",
        [
            ("threshold", s.threshold),
            ("candidates tried", f"{result.tried:,}"),
            ("diverged", f"{result.diverged:,} ({result.diverged / result.tried:.1%})"),
            ("acceptance rate", f"{result.acceptance_rate:.4%}"),
            ("maps per system", report.category_stats(cats.systems, None, {})["n_maps_histogram"]),
            ("files", f"{CATEGORY_FILE}, {GALLERY_FILE}, {STATS_FILE}, {STATS_MD}, manifest.json"),
        ],
    )
    return 0


def seal(out: OutputDir, count: int) -> dict:
    """Write the manifest (its counts come from the category file, so a build resumed just
    before this step seals the same bytes)."""
    tried = CategorySet.load(out.file(CATEGORY_FILE)).search.get("tried")
    return out.finish({"categories": count, "candidates_tried": tried}, expected=[CATEGORY_FILE, GALLERY_FILE, STATS_FILE, STATS_MD])


def write_reports(out: OutputDir, cats: CategorySet, variances, search_info: dict) -> None:
    """Gallery picture and stats of a category set."""
    from pcfractal.io import atomic

    atomic.write_bytes(out.file(GALLERY_FILE), report.gallery_png(cats.systems, seed=cats.seed or 0))
    stats = report.category_stats(cats.systems, variances, search_info)
    atomic.write_json(out.file(STATS_FILE), stats)
    atomic.write_text(out.file(STATS_MD), report.stats_markdown("Category search", stats))


PER_CATEGORY_BYTES = 1600  # categories.json per category (2-4 maps); refined by the probe


def plan_categories(count: int, seed: int, s: SearchSettings, probe: bool = True, probe_seconds: float = 2.0) -> Plan:
    """Files, bytes and time of a search. ``probe`` runs the first blocks here on one core
    (about ``probe_seconds``) to measure the block time and the acceptance rate; the time
    printed is rough, since acceptance varies from block to block."""
    notes, unit_seconds, units = [], None, 0
    per_cat = PER_CATEGORY_BYTES
    if probe:
        search_block(seed, 0, SearchSettings(**{**dataclasses.asdict(s), "block_size": 8}))  # load compiled kernels
        t0, blocks, accepted = time.perf_counter(), 0, []
        while blocks < 1 or (time.perf_counter() - t0 < probe_seconds and blocks < 16):
            accepted += search_block(seed, blocks, s).accepted
            blocks += 1
        unit_seconds = (time.perf_counter() - t0) / blocks
        rate = max(len(accepted), 0.5) / (blocks * s.block_size)
        units = max(1, -(-count // max(1e-12, rate * s.block_size)).__int__())
        if accepted:
            import json

            per_cat = len(json.dumps(CategorySet([c.params for c in accepted]).to_dict()["categories"], indent=2)) // len(accepted) + 150
        notes.append(f"probe: {blocks} block(s) of {s.block_size:,} candidates, {len(accepted)} accepted, {unit_seconds:.2f} s per block on one core")
        notes.append(f"expected: ~{units:,} blocks (~{units * s.block_size:,} candidates) for {count:,} categories; acceptance varies, so the time is rough")
    tiles = min(count, 64)
    n_bytes = 400 + count * per_cat + 2000 + tiles * 1000 + 4000 + 600 * 2
    return Plan(files=5, bytes=n_bytes, units=units, unit_seconds=unit_seconds, notes=notes)
