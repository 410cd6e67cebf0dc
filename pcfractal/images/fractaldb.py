"""FractalDB: 2D fractal images (PCFRACTALDB.md sec. 3 and 5), as the authors' release
draws them by default.

Categories: 2D IFS systems, stored as (N, 7) float64 rows (a, b, c, d, e, f, p) like the
authors' CSV files (x' = a x + b y + e, y' = c x + d y + f; p the map's selection
probability, |a d - b c| normalised). Candidate ``k`` draws its system (the uniform
sampler: N in {2..7}, a..f in U[-1, 1]) and then its search orbit from
``keys.generator(seed, "fractaldb-search", k)``; it is a category when the orbit does not
diverge and the filling rate (lit pixels / all pixels) of its ``search_points`` points
(the origin, where the orbit starts, included) drawn as single pixels on a
``search_size`` square with ``pad`` px padding, each axis scaled on its own, is at least
``filling_rate``. The categories are the first ``count`` accepted candidates in
candidate order (the result does not depend on the worker count). Or: the authors'
published categories, ``classes_from_path`` (their CSV files).

Images: 1,000 per category = 25 weight rows x 10 renders x 4 flips, in that nesting
(image ``i``: flip ``i mod 4``, render ``(i // 4) mod 10``, row ``(i // 40) mod 25``,
cycle ``i // 1000`` repeats the scheme with new streams). A weight row multiplies one of
a..f in every map by a factor (step 0.4: 0.2, 0.6, 1.4, 1.8); p is kept (the authors do
not recompute it). The orbit of (category, row, cycle) comes from
``keys.generator(seed, "fractaldb-points", c, row, cycle)`` and is shared by the row's
renders (the authors reseed every render with the same seed); in ``point`` mode each
render has its own orbit (key ``c, row, cycle, render``), otherwise its 10 renders would
be equal. Render ``k`` draws its patches from ``keys.generator(seed, "fractaldb-patch",
c, row, k, cycle)``; its 4 flips (0 none, 1 top-bottom, 2 left-right, 3 both, the
authors' order) share them.

Drawing (``render``):
- ``patch-random`` (the release; the talk's "Patch (random)"): every point pastes a NEW
  random 3x3 pattern (a code in 1..511) with its top-left cell at (x + 1, y + 1); a paste
  writes all 9 cells, so a later patch's zero bits blank earlier ink.
- ``patch-fixed`` (the talk's best, "Patch (fix)"; the release's commented-out line): one
  random pattern per render, pasted the same way.
- ``point``: single pixels.
Colour (``color``): ``gray`` = 127 on black, (H, W) uint8; ``color`` = the authors'
colour cycle with the point index (128 hues), (H, W, 3) uint8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pcfractal.core import ifs, keys, raster
from pcfractal.core.chaos import CHAOS_FILL, DEFAULT_BOUND, chaos_game, cumulative

from . import _kernels
from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

SCREEN_STEPS = 1000  # chaos-game steps run before drawing the rest of a candidate's stream
SEARCH_BLOCK = 64  # candidates per work unit of the search
RENDERS = ("patch-random", "patch-fixed", "point")
COLORS = ("gray", "color")
WEIGHT_STEPS = (0.0125, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)  # the authors' weights_<step>.csv
GRAY = 127
POINT_CODE = 16  # the centre cell only (bit 8 - 4)


def _f(help: str, choices=None):
    return {"help": help, "choices": choices}


@dataclass(frozen=True)
class FractalDBSettings:
    """Defaults: the authors' recommended run (exe.sh: rate 0.2, step 0.4, 362 px, 100k
    search points, 200k render points, patch_gray) and their geometry (6 px padding)."""

    size: int = field(default=362, metadata=_f("image side, pixels (the talk's sweep is best at 256-362)"))
    n_points: int = field(default=200_000, metadata=_f("points per image, the start point included (authors: 200,000)"))
    render: str = field(
        default="patch-random",
        metadata=_f(
            "patch-random: a new 3x3 pattern per point, pasted (the release); patch-fixed: one pattern per image (the talk's best); point: single pixels",
            RENDERS,
        ),
    )
    color: str = field(
        default="gray", metadata=_f("gray: 127 on black, grayscale PNG; color: the authors' colour cycle with the point index, RGB", COLORS)
    )
    patches: int = field(default=10, metadata=_f("renders per weight row (the authors' --instance; 10 -> 1,000 images per category)"))
    flips: int = field(default=4, metadata=_f("flips per render: 1, 2 (none, top-bottom) or 4 (+ left-right, both)", (1, 2, 4)))
    weight_rows: int = field(default=25, metadata=_f("weight table rows: identity + each of a..f times 4 factors (1 = none)", (25, 1)))
    weight_step: float = field(
        default=0.4,
        metadata=_f(
            "weight table by name (the authors' weights_<step>.csv): factors 1 -/+ step, 1 -/+ 2 step (0.4: 0.2, 0.6, 1.4, 1.8)",
            WEIGHT_STEPS,
        ),
    )
    pad: int = field(default=6, metadata=_f("padding, pixels, of the search and the render (authors: 6)"))
    filling_rate: float = field(
        default=0.2, metadata=_f("category threshold on lit pixels / all pixels (authors' code 0.2; the talk's sweep: 0.10)")
    )
    search_size: int = field(default=512, metadata=_f("image side of the filling-rate check, pixels"))
    search_points: int = field(default=100_000, metadata=_f("points of the filling-rate check, the start point included"))
    bound: float = field(default=DEFAULT_BOUND, metadata=_f("divergence bound on |coordinate|"))

    @property
    def images_per_cycle(self) -> int:
        return self.weight_rows * self.flips * self.patches

    def validate(self) -> "FractalDBSettings":
        if self.size <= 0 or self.search_size <= 0:
            raise ValueError(f"image size must be positive, got {self.size if self.size <= 0 else self.search_size}")
        if self.n_points <= 1 or self.search_points <= 1:
            raise ValueError(
                f"points per image must be positive (and > 1: the start point counts), got {min(self.n_points, self.search_points)}"
            )
        if self.render not in RENDERS:
            raise ValueError(f"render must be one of {', '.join(RENDERS)}, got {self.render!r}")
        if self.color not in COLORS:
            raise ValueError(f"color must be one of {', '.join(COLORS)}, got {self.color!r}")
        if self.patches < 1 or self.flips not in (1, 2, 4):
            raise ValueError(f"patches (renders per row) must be >= 1 and flips 1, 2 or 4, got {self.patches}, {self.flips}")
        if self.weight_rows not in (25, 1):
            raise ValueError(f"weight_rows must be 25 or 1 (none), got {self.weight_rows}")
        if self.weight_step not in WEIGHT_STEPS:
            raise ValueError(f"weight_step names one of the authors' tables {WEIGHT_STEPS}, got {self.weight_step}")
        if self.pad < 0 or 2 * self.pad + 4 >= min(self.size, self.search_size):
            raise ValueError(f"pad {self.pad} leaves no room in a {min(self.size, self.search_size)} px image")
        if not 0.0 < self.filling_rate <= 1.0:
            raise ValueError(f"filling rate threshold must be in (0, 1], got {self.filling_rate}")
        return self


def weight_table(rows: int, step: float) -> np.ndarray:
    """(rows, 6) weight rows over a..f (row 0 the identity); a factor 0 (step 0.5) is 0.01,
    as in the authors' weights_0.5.csv."""
    t = ifs.weight_table(rows, 6, step)
    t[t == 0.0] = 0.01
    return t


def split_classes(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(system (N, 6), probabilities (N,)) of a category: (N, 7) rows keep their p; old
    (N, 6) rows get p = |det| normalised."""
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] not in (6, 7):
        raise ValueError(f"a FractalDB category is (N, 7) rows a..f, p (or (N, 6)), got shape {params.shape}")
    if params.shape[1] == 6:
        return params, ifs.probabilities(params)
    return params[:, :6], params[:, 6]


def with_probabilities(system: np.ndarray) -> np.ndarray:
    """(N, 7): the system and p = |a d - b c| / sum."""
    return np.concatenate([system, ifs.probabilities(system)[:, None]], axis=1)


def _orbit(system, p, n, rng, bound, out=None):
    """The orbit's n - 1 points after the origin (the origin is the authors' first point),
    or None when it diverges."""
    return chaos_game(system, n - 1, rng, probabilities=p, bound=bound, out=out)


def _pixels(pts, size, pad):
    cols = np.empty(pts.shape[0] + 1, dtype=np.int32)
    rows = np.empty(pts.shape[0] + 1, dtype=np.int32)
    if not raster.authors_pixels(pts, size, pad, cols, rows):
        raise RuntimeError("fractaldb: a degenerate orbit (zero extent) cannot be drawn")
    return cols, rows


_POINT = np.array([POINT_CODE], dtype=np.int16)
_WHITE = np.array([[255]], dtype=np.uint8)
_GRAY = np.array([[GRAY]], dtype=np.uint8)
HUES = 128  # the authors' colour cycle: point i takes hue i mod 128
PALETTE = np.concatenate([np.zeros((1, 3), np.uint8), raster.authors_color_table(HUES)])  # index 0: black
_PALETTE_INDICES = np.arange(1, HUES + 1, dtype=np.uint8)[:, None]


def search_candidate(seed: int, k: int, settings: FractalDBSettings, image: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Candidate ``k``: ((N, 7) system with p, filling rate), or (system, -1.0) when the
    orbit diverges. Its stream: ``ifs.sample_uniform(rng, 2)`` then one ``random`` per step."""
    s = settings
    rng = keys.generator(seed, "fractaldb-search", k)
    system = ifs.sample_uniform(rng, dim=2)
    a, t = ifs.split(system)
    dets = np.abs(a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0])
    if not dets.sum() > 0.0:
        return np.concatenate([system, np.zeros((len(system), 1))], axis=1), -1.0
    p = dets / dets.sum()
    params = np.concatenate([system, p[:, None]], axis=1)
    cum = cumulative(p)
    n = s.search_points - 1
    pts = np.empty((n, 2))
    x = np.zeros(2)
    kernel = CHAOS_FILL[2]
    # A short head first, so a diverging candidate costs ~1,000 draws, not 100,000 (the
    # same stream as one rng.random(n) call).
    head = min(SCREEN_STEPS, n)
    ok, _ = kernel(a, t, cum, rng.random(head), pts[:head], x, 0, s.bound)
    if ok and head < n:
        ok, _ = kernel(a, t, cum, rng.random(n - head), pts[head:], x, 0, s.bound)
    if not ok:
        return params, -1.0
    cols = np.empty(n + 1, dtype=np.int32)
    rows = np.empty(n + 1, dtype=np.int32)
    if not raster.authors_pixels(pts, s.search_size, s.pad, cols, rows):
        return params, 0.0
    if image is None:
        image = np.zeros((s.search_size, s.search_size, 1), dtype=np.uint8)
    else:
        image[:] = 0
    raster.paste_patches(image, cols, rows, _POINT, _WHITE, -1, False)
    return params, np.count_nonzero(image) / float(s.search_size * s.search_size)


def search_block(seed: int, block: int, settings: FractalDBSettings) -> list[tuple[int, np.ndarray, float]]:
    """Evaluate candidates ``block * SEARCH_BLOCK`` .. ``(block + 1) * SEARCH_BLOCK - 1``;
    return (accepted as [(k, system (N, 7), rate)], number diverged)."""
    image = np.zeros((settings.search_size, settings.search_size, 1), dtype=np.uint8)
    accepted, diverged = [], 0
    for k in range(block * SEARCH_BLOCK, (block + 1) * SEARCH_BLOCK):
        params, rate = search_candidate(seed, k, settings, image)
        if rate < 0:
            diverged += 1
        elif rate >= settings.filling_rate:
            accepted.append((k, params, rate))
    return accepted, diverged


def read_category_csv(path: Path) -> np.ndarray:
    """One authors' category file: rows a, b, c, d, e, f, p (comma separated) -> (N, 7)."""
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a FractalDB category CSV (rows a,b,c,d,e,f,p): {e}") from None
    if rows.shape[1] != 7 or len(rows) < 1:
        raise ValueError(f"{path}: a FractalDB category CSV has 7 columns (a,b,c,d,e,f,p), got shape {rows.shape}")
    if not np.isfinite(rows).all() or (rows[:, 6] < 0).any() or not rows[:, 6].sum() > 0:
        raise ValueError(f"{path}: non-finite values or probabilities p that are negative or sum to 0")
    return rows


@register
class FractalDB(ImageGenerator):
    name = "fractaldb"
    Settings = FractalDBSettings
    description = "2D fractal categories by filling rate; weight rows x renders x flips, 3x3 patches (the authors' release)"
    presets = {
        "tiny": {"categories": 4, "per_category": 8},
        # the authors' recommended run (exe.sh): the settings' defaults
        "fractaldb-1k": {
            "categories": 1000,
            "per_category": 1000,
            "filling_rate": 0.2,
            "weight_step": 0.4,
            "size": 362,
            "search_points": 100_000,
            "n_points": 200_000,
            "render": "patch-random",
            "color": "gray",
        },
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
        info = {
            "source": "search",
            "tried": tried,
            "diverged": diverged,
            "acceptance_rate": len(found) / tried,
            "filling_rate": settings.filling_rate,
        }
        return ClassSet(self.name, [p for _, p, _ in found], seed, settings_dict(settings), origin, info)

    def classes_from_path(self, path, count, settings) -> ClassSet:
        """The authors' published categories: ``path`` is a CSV file or a folder searched
        recursively for ``*.csv`` (their data/csv_rate0.2_category1000/csv*/NNNNN.csv),
        ordered by file name; the first ``count`` (None: all) become categories 0.. in
        that order. ValueError when there are fewer, or a file is malformed."""
        path = Path(path)
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(path.rglob("*.csv"), key=lambda p: (p.name, str(p)))
        else:
            raise ValueError(f"--categories {path}: no such file or folder")
        if not files:
            raise ValueError(f"--categories {path}: no .csv category file found")
        if count is not None:
            if count <= 0:
                raise ValueError(f"category count must be positive, got {count}")
            if count > len(files):
                raise ValueError(f"--categories {path}: {len(files)} category files, {count} asked for")
            files = files[:count]
        params = [read_category_csv(f) for f in files]
        origin = [{"file": str(f.relative_to(path)) if path.is_dir() else f.name} for f in files]
        info = {"source": "category files", "path": str(path)}
        return ClassSet(self.name, params, None, settings_dict(settings), origin, info)

    # -- images ---------------------------------------------------------------------------
    @staticmethod
    def decompose(index: int, s: FractalDBSettings) -> tuple[int, int, int, int]:
        """Image index -> (weight row, flip, render, cycle)."""
        flip = index % s.flips
        k = (index // s.flips) % s.patches
        row = (index // (s.flips * s.patches)) % s.weight_rows
        return row, flip, k, index // s.images_per_cycle

    @staticmethod
    def points(params, category, row, cycle, seed, s: FractalDBSettings, table=None, out=None, render_index=None) -> np.ndarray:
        """(n_points - 1, 2) orbit after the origin of (category, row, cycle[, render]); a
        diverging row is replaced by the next one, deterministically."""
        table = weight_table(s.weight_rows, s.weight_step) if table is None else table
        system, p = split_classes(params)
        key = (category, row, cycle) if render_index is None else (category, row, cycle, render_index)
        rng = keys.generator(seed, "fractaldb-points", *key)
        for attempt in range(len(table)):
            r = (row + attempt) % len(table)
            pts = _orbit(ifs.fluctuate(system, table[r]), p, s.n_points, rng, s.bound, out)
            if pts is not None:
                return pts
        raise RuntimeError(f"fractaldb category {category}: every weight row diverged")

    @staticmethod
    def pixels(params, category, row, cycle, seed, s: FractalDBSettings, table=None, out=None, render_index=None, buffer=None, pix=None):
        """(cols, rows) int32 of ``_pixels(points(...))`` (the origin first): the orbit and
        its extent from one kernel pass (``_kernels.orbit_with_stats``, the same numbers as
        ``chaos_game``), then one pass to pixels. Same diverging-row rule as ``points``."""
        table = weight_table(s.weight_rows, s.weight_step) if table is None else table
        system, p = split_classes(params)
        key = (category, row, cycle) if render_index is None else (category, row, cycle, render_index)
        rng = keys.generator(seed, "fractaldb-points", *key)
        for attempt in range(len(table)):
            r = (row + attempt) % len(table)
            pts, st = _kernels.orbit_with_stats(
                ifs.fluctuate(system, table[r]), s.n_points - 1, rng, probabilities=p, bound=s.bound, out=out, buffer=buffer
            )
            if pts is not None:
                # pix: (2, n_points) int32 kept by the caller (fresh arrays cost page faults)
                cols, rows = np.empty((2, pts.shape[0] + 1), dtype=np.int32) if pix is None else pix
                # the origin (the authors' first point) takes part in the extent
                if not raster.authors_pixels_in_extent(
                    pts, s.size, s.pad, min(0.0, st[0]), max(0.0, st[1]), min(0.0, st[2]), max(0.0, st[3]), cols, rows
                ):
                    raise RuntimeError("fractaldb: a degenerate orbit (zero extent) cannot be drawn")
                return cols, rows
        raise RuntimeError(f"fractaldb category {category}: every weight row diverged")

    @staticmethod
    def unflipped(cols, rows, category, row, k, cycle, seed, s: FractalDBSettings, image=None) -> np.ndarray:
        """Render ``k`` of a row before its flip: (size, size, 1) uint8, gray values, or in
        ``color`` mode indices into ``PALETTE`` (0 black, 1 + j the colour of points j, j +
        128, ...): the paste writes one byte per cell and ``flipped`` turns indices into
        colours once per image (3x less paste traffic than pasting RGB; the same pixels)."""
        if image is None:
            image = np.zeros((s.size, s.size, 1), dtype=np.uint8)
        else:
            image[:] = 0
        values = _PALETTE_INDICES if s.color == "color" else _GRAY
        if s.render == "point":
            raster.paste_patches(image, cols, rows, _POINT, values, -1, False)
            return image
        rng = keys.generator(seed, "fractaldb-patch", category, row, k, cycle)
        if s.render == "patch-random":
            codes = rng.integers(1, 512, cols.shape[0], dtype=np.int16)
        else:
            codes = np.array([rng.integers(1, 512)], dtype=np.int16)
        raster.paste_patches(image, cols, rows, codes, values, 1, True)
        return image

    @staticmethod
    def flipped(image, flip, s: FractalDBSettings, out=None) -> np.ndarray:
        """Flip 0 none, 1 top-bottom, 2 left-right, 3 both (the authors' order) of an
        ``unflipped`` render; (H, W) for gray, (H, W, 3) colours for colour (written into
        ``out`` when given); a new array otherwise."""
        if s.color == "color":
            h, w = image.shape[:2]
            out = np.empty((h, w, 3), np.uint8) if out is None else out
            return raster.expand_palette(image[:, :, 0], PALETTE, bool(flip & 1), bool(flip & 2), out)
        v = image
        if flip & 1:
            v = v[::-1]
        if flip & 2:
            v = v[:, ::-1]
        return np.ascontiguousarray(v[:, :, 0])

    def render(self, params, category, index, seed, settings) -> np.ndarray:
        """Image ``index`` of ``category``: (size, size) uint8 (gray) or (size, size, 3) uint8 (color)."""
        s = settings
        row, flip, k, cycle = self.decompose(index, s)
        cols, rows = self.pixels(params, category, row, cycle, seed, s, render_index=k if s.render == "point" else None)
        return self.flipped(self.unflipped(cols, rows, category, row, k, cycle, seed, s), flip, s)

    def render_many(self, params, category, indices, seed, settings):
        s = settings
        table = weight_table(s.weight_rows, s.weight_step)
        out = np.empty((s.n_points - 1, 2))
        draws = np.empty(_kernels.DRAW_CHUNK)
        pix = np.empty((2, s.n_points), dtype=np.int32)
        buf = np.zeros((s.size, s.size, 1), dtype=np.uint8)
        rgb = np.empty((s.size, s.size, 3), dtype=np.uint8) if s.color == "color" else None
        points_key = render_key = None
        cols = rows = None
        for i in indices:
            row, flip, k, cycle = self.decompose(i, s)
            pk = (row, cycle, k if s.render == "point" else None)
            if pk != points_key:  # consecutive images of a row share its orbit
                cols, rows = self.pixels(params, category, row, cycle, seed, s, table, out, render_index=pk[2], buffer=draws, pix=pix)
                points_key = pk
                render_key = None
            if (row, cycle, k) != render_key:  # the 4 flips of a render share it
                self.unflipped(cols, rows, category, row, k, cycle, seed, s, buf)
                render_key = (row, cycle, k)
            yield i, self.flipped(buf, flip, s, rgb)  # rgb: reused, as render_many's images may be
