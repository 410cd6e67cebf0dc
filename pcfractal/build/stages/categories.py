"""The ``categories`` stage: search 3D IFS categories by the variance check and write the
category file, its gallery and statistics.

The search is one serial step (its blocks run on the executor, in block order); a
candidate budget stops a threshold that cannot be met with one clear line.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

import numpy as np

from pcfractal.core import ifs, keys
from pcfractal.core.normalize import check_threshold
from pcfractal.pointclouds import report
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from pcfractal.pointclouds.presets import PRESETS, preset
from pcfractal.pointclouds.search import SearchSettings, search_block, search_categories

from ..plan import BuildError, Plan
from ..stage import RunContext, Stage, UnitWriter

GALLERY_FILE = "gallery.png"
STATS_FILE = "stats.json"
STATS_MD = "stats.md"
PER_CATEGORY_BUDGET = 200_000  # candidates per wanted category before giving up (~30x the mean at 0.15)
EMPTY_BUDGET = 2_000_000  # candidates with not one accepted: the threshold is out of reach


@dataclass(frozen=True)
class CategoriesSettings:
    """What defines a category search (its output depends on nothing else)."""

    count: int | None = field(default=None, metadata={"help": "categories to find (default: the preset's)", "metavar": "N"})
    preset: str = field(
        default="tiny",
        metadata={"help": "build size: " + ", ".join(f"{k} ({v['categories']:,})" for k, v in PRESETS.items()), "choices": tuple(PRESETS)},
    )
    seed: int = field(default=0, metadata={"help": "the one seed every random draw derives from"})
    threshold: float = field(
        default=SearchSettings.threshold, metadata={"help": "variance threshold in (0, 1/3]: 0.15 = the paper, 0.05 = the authors' scripts"}
    )
    points_per_trial: int = field(default=SearchSettings.n_points, metadata={"help": "chaos-game points per candidate"})
    sampler: str = field(
        default=SearchSettings.sampler, metadata={"help": "system sampler (the authors' uniform)", "choices": tuple(sorted(ifs.SAMPLERS))}
    )
    burn_in: int = field(default=SearchSettings.burn_in, metadata={"help": "chaos-game steps dropped first (0, like the authors)"})
    screen: bool = field(default=True, metadata={"help": "run every candidate's full 10,000 points (exact but ~5x slower; see README)"})
    max_candidates: int | None = field(
        default=None,
        metadata={"help": f"give up after this many candidates (default: {PER_CATEGORY_BUDGET:,} per category)", "metavar": "N"},
    )

    @property
    def n(self) -> int:
        return self.count if self.count is not None else preset(self.preset)["categories"]

    def search(self) -> SearchSettings:
        return SearchSettings(
            threshold=self.threshold,
            n_points=self.points_per_trial,
            sampler=self.sampler,
            burn_in=self.burn_in,
            screen_points=SearchSettings.screen_points if self.screen else 0,
        )

    def validate(self) -> "CategoriesSettings":
        keys.check_seed(self.seed)
        preset(self.preset)
        if self.n < 1:
            raise ValueError(f"--count must be at least 1, got {self.n}")
        if self.points_per_trial < 100:
            raise ValueError(f"--points-per-trial must be at least 100, got {self.points_per_trial}")
        if self.max_candidates is not None and self.max_candidates < 1:
            raise ValueError(f"--max-candidates must be positive, got {self.max_candidates}")
        check_threshold(self.threshold)
        self.search().validate()
        return self


class CategoriesStage(Stage):
    kind = "categories"

    def __init__(self, settings: CategoriesSettings):
        self.s = settings.validate()

    def settings_dict(self) -> dict:
        # The 0.1 marker layout: search settings, count and seed (kept so 0.1 builds resume).
        return {"seed": self.s.seed, **dataclasses.asdict(self.s.search()), "count": self.s.n}

    def owns(self, rel: str) -> bool:
        return rel in (CATEGORY_FILE, GALLERY_FILE, STATS_FILE, STATS_MD)

    def plan(self, probe: bool = False) -> Plan:
        return plan_categories(self.s.n, self.s.seed, self.s.search(), probe=probe)

    def units(self):
        return []

    def prepare(self, ctx: RunContext) -> None:
        ctx.serial_unit("search", lambda w: self._search(w, ctx))

    def _search(self, w: UnitWriter, ctx: RunContext) -> dict:
        s, count = self.s.search(), self.s.n
        budget = self.s.max_candidates or count * PER_CATEGORY_BUDGET
        tried = 0
        with ctx.log.progress(count, "categories", "cat") as bar:

            def tick(n_found, res):
                nonlocal tried
                tried += res.tried
                bar.update(n_found - bar.n, tried=f"{tried:,}")
                if n_found == 0 and tried >= min(EMPTY_BUDGET, budget):
                    raise BuildError(
                        f"--threshold {s.threshold}: not one of the first {tried:,} candidates passed; "
                        "the threshold is out of reach (0.15 is the paper's, 0.05 the authors' scripts)"
                    )

            try:
                result = search_categories(count, self.s.seed, s, executor=ctx.executor, progress=tick, max_candidates=budget)
            except RuntimeError as e:
                raise BuildError(f"{e} (--max-candidates {budget:,})") from None
        search_info = {
            "tried": result.tried,
            "diverged": result.diverged,
            "blocks": result.blocks,
            "acceptance_rate": result.acceptance_rate,
        }
        cats = CategorySet(
            [c.params for c in result.categories],
            self.s.seed,
            {k: v for k, v in self.settings_dict().items() if k != "seed"},  # as 0.1 wrote it: same bytes
            [{"block": c.block, "offset": c.offset, "variances": [float(v) for v in c.variances]} for c in result.categories],
            search_info,
        )
        w.write_json(CATEGORY_FILE, cats.to_dict())  # the same bytes as CategorySet.save
        return {"tried": result.tried}

    def finish(self, ctx: RunContext, results: list) -> dict:
        cats = CategorySet.load(ctx.root / CATEGORY_FILE)
        variances = np.array([o["variances"] for o in cats.origin])
        ctx.writer.write(GALLERY_FILE, report.gallery_png(cats.systems, seed=cats.seed or 0, variances=variances))
        stats = report.category_stats(cats.systems, variances, cats.search)
        ctx.writer.write_json(STATS_FILE, stats)
        ctx.writer.write_text(STATS_MD, report.stats_markdown("Category search", stats))
        self.cats = cats
        return {"categories": len(cats), "candidates_tried": cats.search.get("tried")}

    def summary(self, ctx, results):
        c, info = self.cats, self.cats.search
        return f"categories: {len(c)} -> {ctx.folder.given}", [
            ("threshold", self.s.threshold),
            ("candidates tried", f"{info['tried']:,}"),
            ("diverged", f"{info['diverged']:,} ({info['diverged'] / max(1, info['tried']):.1%})"),
            ("acceptance rate", f"{info['acceptance_rate']:.4%}"),
            ("maps per system", report.category_stats(c.systems, None, {})["n_maps_histogram"]),
            ("files", f"{CATEGORY_FILE}, {GALLERY_FILE}, {STATS_FILE}, {STATS_MD}, manifest.json"),
        ]


PER_CATEGORY_BYTES = 1600  # categories.json per category (2-4 maps); refined by the probe


def plan_categories(count: int, seed: int, s: SearchSettings, probe: bool = False, probe_seconds: float = 2.0) -> Plan:
    """Files, bytes and time of a search. ``probe`` runs the first blocks here on one core
    (about ``probe_seconds``) to measure the block time and the acceptance rate; the time
    is rough, since acceptance varies from block to block."""
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
        units = max(1, int(-(-count // max(1e-12, rate * s.block_size))))
        if accepted:
            per_cat = len(json.dumps(CategorySet([c.params for c in accepted]).to_dict()["categories"], indent=2)) // len(accepted) + 150
        notes.append(
            f"probe: {blocks} block(s) of {s.block_size:,} candidates, {len(accepted)} accepted, {unit_seconds:.2f} s per block on one core"
        )
        notes.append(
            f"expected: ~{units:,} blocks (~{units * s.block_size:,} candidates) for {count:,} categories; acceptance varies, so the time is rough"
        )
    tiles = min(count, 64)
    n_bytes = 400 + count * per_cat + 2000 + tiles * 40_000 + 4000 + 600 * 2
    return Plan(
        files=6, bytes=n_bytes, units=units, unit_seconds=unit_seconds, unit_bytes=64 * 2**20, notes=notes, memory_flag="--points-per-trial"
    )
