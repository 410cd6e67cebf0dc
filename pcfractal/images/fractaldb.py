"""FractalDB: 2D fractal images (PCFRACTALDB.md sec. 3).

Categories: 2D IFS systems (the uniform sampler: N in {2..7}, a..f in U[-1, 1], p_j
proportional to |a d - b c|). Candidate ``k`` draws its system and then its search cloud
from ``keys.generator(seed, "fractaldb-search", k)``; it is a category when the chaos game
does not diverge and the filling rate (lit pixels / all pixels) of its ``search_points``
points rendered as dots on a ``search_size`` square image is at least ``filling_rate``.
The categories are the first ``count`` accepted candidates in candidate order (blocks of
candidates run in parallel; the result does not depend on the worker count).

Images: 1,000 per category = 25 weight rows x 4 flips x 10 patch patterns. Image ``i``:
flip ``i mod 4`` (none, mirror left-right, mirror up-down, both = a half turn), patch
pattern ``(i // 4) mod 10``, weight row ``(i // 40) mod 25``; past 1,000 images the cycle
``i // 1000`` repeats the scheme with new chaos-game streams. The points of (category,
row, cycle) come from ``keys.generator(seed, "fractaldb-points", c, row, cycle)``, so the
40 images of a row share one chaos game (as in the authors' scheme); patch pattern ``k`` of
category ``c`` is a code in 1..511 from ``keys.generator(seed, "fractaldb-patch", c, k)``.
Rendering: each axis min-max scaled onto the image (``raster.fit_splat_patch``), and every
point stamps the 3x3 patch in white on black (``render="point"`` draws single pixels).
A fluctuated system that diverges is replaced by the next row of the table, deterministically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcfractal.core import ifs, keys, raster
from pcfractal.core.chaos import CHAOS_FILL, DEFAULT_BOUND, chaos_game, cumulative
from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

SCREEN_STEPS = 1000  # chaos-game steps run before drawing the rest of a candidate's stream
SEARCH_BLOCK = 64  # candidates per work unit of the search


@dataclass(frozen=True)
class FractalDBSettings:
    """Defaults: PCFRACTALDB.md sec. 3; image size and points as the FractalDB-1k target."""

    size: int = 362  # image side (the talk's sweep is best at 256-362)
    n_points: int = 200_000  # points per image (100k-200k)
    render: str = "patch"  # "patch" (3x3 patterns, 4-6 points better) or "point"
    patches: int = 10  # patch patterns per category
    flips: int = 4  # flips/rotations per row (1, 2 or 4)
    weight_rows: int = 25  # identity + each of a..f times 4 factors
    weight_step: float = 0.1  # factor step: 0.1 -> {0.8, 0.9, 1.1, 1.2}; the talk's best 0.4
    pad: int = 0  # empty border, pixels
    filling_rate: float = 0.2  # category threshold: the authors' code; the talk's sweep: 0.10
    search_size: int = 512  # image side of the filling-rate check
    search_points: int = 100_000  # points of the filling-rate check
    burn_in: int = 0
    bound: float = DEFAULT_BOUND

    @property
    def images_per_cycle(self) -> int:
        return self.weight_rows * self.flips * self.patches

    def validate(self) -> "FractalDBSettings":
        if self.size <= 0 or self.search_size <= 0:
            raise ValueError(f"image size must be positive, got {self.size if self.size <= 0 else self.search_size}")
        if self.n_points <= 0 or self.search_points <= 0:
            raise ValueError(f"points per image must be positive, got {self.n_points if self.n_points <= 0 else self.search_points}")
        if self.render not in ("patch", "point"):
            raise ValueError(f"render must be 'patch' or 'point', got {self.render!r}")
        if self.patches < 1 or self.flips not in (1, 2, 4):
            raise ValueError(f"patches must be >= 1 and flips 1, 2 or 4, got {self.patches}, {self.flips}")
        ifs.weight_factors(self.weight_rows, 6, self.weight_step)  # raises on a bad row count
        if not 0.0 < self.weight_step < 1.0:
            raise ValueError(f"weight step must be in (0, 1), got {self.weight_step}")
        if self.pad < 0 or 2 * self.pad >= min(self.size, self.search_size):
            raise ValueError(f"pad {self.pad} leaves no room in a {min(self.size, self.search_size)} px image")
        if not 0.0 < self.filling_rate <= 1.0:
            raise ValueError(f"filling rate threshold must be in (0, 1], got {self.filling_rate}")
        if self.burn_in < 0:
            raise ValueError(f"burn-in must be >= 0, got {self.burn_in}")
        return self


def search_candidate(seed: int, k: int, settings: FractalDBSettings, image: np.ndarray | None = None):
    """Evaluate candidate ``k``: (system (N, 6), filling rate) or (system, -1.0) when the
    chaos game diverges. Its stream: ``ifs.sample_uniform(rng, 2)`` then one ``random`` per
    chaos-game step, exactly what ``chaos.chaos_game(system, search_points, rng)`` draws."""
    s = settings
    rng = keys.generator(seed, "fractaldb-search", k)
    params = ifs.sample_uniform(rng, dim=2)
    a, t = ifs.split(params)
    dets = np.abs(a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0])
    if not dets.sum() > 0.0:
        return params, -1.0
    cum = cumulative(dets / dets.sum())
    n = s.burn_in + s.search_points
    pts = np.empty((s.search_points, 2))
    x = np.zeros(2)
    kernel = CHAOS_FILL[2]
    # A short head first, so a diverging candidate costs ~1,000 draws, not 100,000. The
    # stream is the same as one rng.random(n) call: doubles are drawn one after the other.
    head = SCREEN_STEPS if s.burn_in == 0 and SCREEN_STEPS < n else n
    ok, _ = kernel(a, t, cum, rng.random(head), pts[: head - s.burn_in], x, s.burn_in, s.bound)
    if ok and head < n:
        ok, _ = kernel(a, t, cum, rng.random(n - head), pts[head:], x, 0, s.bound)
    if not ok:
        return params, -1.0
    if image is None:
        image = np.zeros((s.search_size, s.search_size), dtype=np.uint8)
    else:
        image[:] = 0
    lit = raster.fit_splat_patch(pts, s.search_size, s.pad, image, 255, raster.POINT_MASK, False, False)
    return params, (lit / float(s.search_size * s.search_size) if lit >= 0 else 0.0)


def search_block(seed: int, block: int, settings: FractalDBSettings) -> list[tuple[int, np.ndarray, float]]:
    """Evaluate candidates ``block * SEARCH_BLOCK`` .. ``(block + 1) * SEARCH_BLOCK - 1``;
    return (accepted as [(k, system, rate)], number diverged)."""
    image = np.zeros((settings.search_size, settings.search_size), dtype=np.uint8)
    accepted, diverged = [], 0
    for k in range(block * SEARCH_BLOCK, (block + 1) * SEARCH_BLOCK):
        params, rate = search_candidate(seed, k, settings, image)
        if rate < 0:
            diverged += 1
        elif rate >= settings.filling_rate:
            accepted.append((k, params, rate))
    return accepted, diverged


@register
class FractalDB(ImageGenerator):
    name = "fractaldb"
    Settings = FractalDBSettings
    description = "2D fractal categories by filling rate; weight rows x flips x 3x3 patch patterns"
    presets = {
        "tiny": {"categories": 4, "per_category": 8},
        "fractaldb-1k": {"categories": 1000, "per_category": 1000},
        "fractaldb-10k": {"categories": 10000, "per_category": 1000},
    }

    def make_classes(self, count, seed, settings, executor=None, progress=None, max_candidates=None) -> ClassSet:
        from pcfractal.build.executor import LocalExecutor

        if count <= 0:
            raise ValueError(f"category count must be positive, got {count}")
        executor = executor or LocalExecutor(1)
        found, tried, diverged = [], 0, 0

        def blocks():
            b = 0
            while True:
                yield (seed, b, settings)
                b += 1

        for accepted, n_div in executor.imap(search_block, blocks()):
            tried += SEARCH_BLOCK
            diverged += n_div
            found.extend(accepted)
            if progress is not None:
                progress(min(len(found), count))
            if len(found) >= count:
                break
            if max_candidates is not None and tried >= max_candidates:
                raise RuntimeError(f"found only {len(found)} of {count} FractalDB categories in {tried} candidates; lower --threshold")
        found = found[:count]
        origin = [{"candidate": k, "filling_rate": rate} for k, _, rate in found]
        info = {"source": "search", "tried": tried, "diverged": diverged, "acceptance_rate": len(found) / tried, "filling_rate": settings.filling_rate}
        return ClassSet(self.name, [p for _, p, _ in found], seed, settings_dict(settings), origin, info)

    # -- images ---------------------------------------------------------------------------
    @staticmethod
    def decompose(index: int, s: FractalDBSettings) -> tuple[int, int, int, int]:
        """Image index -> (weight row, flip, patch pattern, cycle)."""
        flip = index % s.flips
        patch = (index // s.flips) % s.patches
        row = (index // (s.flips * s.patches)) % s.weight_rows
        return row, flip, patch, index // s.images_per_cycle

    @staticmethod
    def patch_masks(category: int, seed: int, s: FractalDBSettings) -> list[np.ndarray]:
        if s.render == "point":
            return [raster.POINT_MASK] * s.patches
        return [raster.patch_mask(1 + int(keys.generator(seed, "fractaldb-patch", category, k).integers(511))) for k in range(s.patches)]

    @staticmethod
    def points(params, category, row, cycle, seed, s: FractalDBSettings, table=None, out=None) -> np.ndarray:
        """The chaos game of (category, row, cycle); a diverging row is replaced by the next."""
        table = ifs.weight_table(s.weight_rows, 6, s.weight_step) if table is None else table
        rng = keys.generator(seed, "fractaldb-points", category, row, cycle)
        for attempt in range(len(table)):
            r = (row + attempt) % len(table)
            pts = chaos_game(ifs.fluctuate(params, table[r]), s.n_points, rng, burn_in=s.burn_in, bound=s.bound, out=out)
            if pts is not None:
                return pts
        raise RuntimeError(f"fractaldb category {category}: every weight row diverged")

    @staticmethod
    def point_image(pts, s: FractalDBSettings, image=None) -> np.ndarray:
        """The points as single pixels (stretched onto the image, unflipped)."""
        if image is None:
            image = np.zeros((s.size, s.size), dtype=np.uint8)
        else:
            image[:] = 0
        if raster.fit_splat_patch(pts, s.size, s.pad, image, 255, raster.POINT_MASK, False, False) < 0:
            raise RuntimeError("fractaldb: a degenerate point set (zero extent) cannot be drawn")
        return image

    @staticmethod
    def draw(point_image, mask, flip, out=None) -> np.ndarray:
        """Flip the point pixels, then stamp the (unflipped) patch at each: the same pixels
        as ``raster.fit_splat_patch`` with the flip flags and the mask, at a cost set by the
        image size instead of the point count (the 40 images of a row share the points)."""
        flipped = point_image
        if flip & 1:
            flipped = flipped[:, ::-1]
        if flip & 2:
            flipped = flipped[::-1, :]
        return raster.dilate(flipped, mask, out)

    def render(self, params, category, index, seed, settings) -> np.ndarray:
        row, flip, patch, cycle = self.decompose(index, settings)
        pts = self.points(params, category, row, cycle, seed, settings)
        return self.draw(self.point_image(pts, settings), self.patch_masks(category, seed, settings)[patch], flip)

    def render_many(self, params, category, indices, seed, settings):
        s = settings
        table = ifs.weight_table(s.weight_rows, 6, s.weight_step)
        masks = self.patch_masks(category, seed, s)
        out = np.empty((s.n_points, 2))
        dots = np.zeros((s.size, s.size), dtype=np.uint8)
        image = np.zeros((s.size, s.size), dtype=np.uint8)
        current = None
        for i in indices:
            row, flip, patch, cycle = self.decompose(i, s)
            if current != (row, cycle):  # consecutive images of a row share its points
                self.point_image(self.points(params, category, row, cycle, seed, s, table, out), s, dots)
                current = (row, cycle)
            yield i, self.draw(dots, masks[patch], flip, image)
