"""PC-FractalDB instances: parameter fluctuation and FractalNoiseMix (PCFRACTALDB.md sec. 1).

Instance ``i`` of category ``c`` draws everything from the generator keyed
("instance", c, i): the noise category (uniform over the others, never ``c``), then the
chaos game of the fluctuated main system, then the noise system's chaos game. The weight
row is ``i mod rows`` (row 0, the identity, for instance 0), so the table is covered
evenly. A diverging main system is replaced deterministically by re-drawing the weight row
from the same stream; a diverging noise system by re-drawing the noise category. Both are
counted in ``attempts``.

Authors' choices, each a setting recorded with the instances (``dataclasses.asdict`` of
the settings goes into instances.json and the scene build info):
- ``probabilities``: ``keep`` (default, the authors': a fluctuated system keeps its
  category's map probabilities |det A_j| / sum, computed from the unfluctuated maps, so
  our data matches the published datasets) or ``recompute`` (from the fluctuated maps).
- ``noise_placement``: ``centred`` (default: each part is centred on its own before the
  mix is re-centred, so the noise overlaps the main cloud, which is what the paper
  describes; the authors' offset is a bug of their centroid) or ``authors`` (their
  fractal_noise_mix.py: each part's centroid is divided by the TOTAL point count, so the
  main part keeps n_noise / n of its offset and the noise n_main / n of its own, then the
  mix is re-centred: the noise sits off the main cloud as in the published PC-FractalDB).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..core import ifs, keys
from ..core.chaos import DEFAULT_BOUND, chaos_game
from ..core.normalize import normalize_inplace

MAX_ATTEMPTS = 64


PROBABILITIES = ("keep", "recompute")
NOISE_PLACEMENTS = ("centred", "authors")


def _f(help: str, choices=None):
    return {"help": help, "choices": choices}


@dataclass(frozen=True)
class InstanceSettings:
    """Defaults: 4,000 points, 80% main (the talk), 145-row weight table, no burn-in, the
    category's probabilities kept (the authors'), each part centred (the paper)."""

    n_points: int = field(
        default=4000, metadata={**_f("points per instance, main + noise (the talk: 4,000; the authors' code 10,000)"), "flag": "points"}
    )
    ratio: float = field(default=0.8, metadata=_f("share of main points (FractalNoiseMix)"))
    weight_rows: int = field(default=145, metadata=_f("fluctuation table rows (1 = none)", ifs.WEIGHT_TABLE_ROWS))
    burn_in: int = field(default=0, metadata=_f("chaos-game steps dropped first"))
    bound: float = field(default=DEFAULT_BOUND, metadata=_f("divergence bound on |coordinate|"))
    probabilities: str = field(
        default="keep",
        metadata=_f(
            "keep: the category's map probabilities (the authors', matches the published data); recompute: from the fluctuated maps",
            PROBABILITIES,
        ),
    )
    noise_placement: str = field(
        default="centred",
        metadata=_f(
            "centred: noise and main each centred (the paper); authors: their centroid bug, noise off the main cloud", NOISE_PLACEMENTS
        ),
    )

    @property
    def n_main(self) -> int:
        return int(round(self.n_points * self.ratio))

    def validate(self) -> "InstanceSettings":
        if self.burn_in < 0 or not 0 < self.bound < float("inf"):
            raise ValueError(f"burn_in must be >= 0 and bound a positive finite number, got {self.burn_in} and {self.bound}")
        if self.n_points < 2:
            raise ValueError(f"points per instance must be at least 2, got {self.n_points}")
        if not 0.0 < self.ratio < 1.0:
            raise ValueError(f"main/noise ratio must be in (0, 1), got {self.ratio}")
        if not 1 <= self.n_main < self.n_points:
            raise ValueError(f"ratio {self.ratio} of {self.n_points} points leaves no main or no noise point")
        if self.weight_rows not in ifs.WEIGHT_TABLE_ROWS:
            raise ValueError(f"weight table must have one of {ifs.WEIGHT_TABLE_ROWS} rows, got {self.weight_rows}")
        if self.probabilities not in PROBABILITIES:
            raise ValueError(f"probabilities must be one of {', '.join(PROBABILITIES)}, got {self.probabilities!r}")
        if self.noise_placement not in NOISE_PLACEMENTS:
            raise ValueError(f"noise_placement must be one of {', '.join(NOISE_PLACEMENTS)}, got {self.noise_placement!r}")
        return self

    def table(self) -> np.ndarray:
        return ifs.weight_table(self.weight_rows, 12)


@dataclass
class Instance:
    points: np.ndarray  # (n_points, 3) float32: n_main main points first, then the noise
    category: int
    noise_category: int
    weight_row: int
    attempts: int  # 0 when nothing had to be replaced


@njit(cache=True, nogil=True)
def _mix(main, noise, out):
    """out[:] = concat(main, noise) - its centroid, cast to out's dtype (numpy's
    axis-0 mean over (4000, 3) costs more than the whole chaos game)."""
    n_main, d = main.shape
    n = out.shape[0]
    mean = np.zeros(d)
    for i in range(n_main):
        for r in range(d):
            mean[r] += main[i, r]
    for i in range(n - n_main):
        for r in range(d):
            mean[r] += noise[i, r]
    for r in range(d):
        mean[r] /= n
    for i in range(n_main):
        for r in range(d):
            out[i, r] = main[i, r] - mean[r]
    for i in range(n - n_main):
        for r in range(d):
            out[n_main + i, r] = noise[i, r] - mean[r]


def _normalized_cloud(params, n, rng, s: InstanceSettings, probabilities=None, subtract=None):
    """Chaos game, global min-max to [-1, 1], then centred; None when it diverges or is
    degenerate. ``subtract`` f (the authors' placement): only f x the centroid is
    subtracted (their centroid divides the sum by the total count: f = n / n_total)."""
    pts = chaos_game(params, n, rng, probabilities=probabilities, burn_in=s.burn_in, bound=s.bound)
    if pts is None:
        return None
    if subtract is None:
        return pts if normalize_inplace(pts) else None
    lo, hi = float(pts.min()), float(pts.max())
    if not (hi - lo > 0.0 and np.isfinite(hi - lo)):
        return None
    pts -= lo
    pts *= 2.0 / (hi - lo)
    pts -= 1.0
    pts -= subtract * pts.mean(axis=0)
    return pts


def make_instance(
    systems: list[np.ndarray],
    category: int,
    index: int,
    seed: int,
    settings: InstanceSettings = InstanceSettings(),
    table: np.ndarray | None = None,
    out: np.ndarray | None = None,
) -> Instance:
    """Instance ``index`` of ``category`` from the category systems ``systems``.

    Args:
        systems: list of (N, 12) float64 category systems.
        category, index: which instance (its key).
        seed: the user's seed.
        settings: point count, ratio, weight table.
        table: the weight table (pass it when making many instances, to skip rebuilding it).
        out: optional (n_points, 3) float32 array to write the points into.
    """
    s = settings
    n_cat = len(systems)
    if n_cat < 2:
        raise ValueError("FractalNoiseMix needs at least 2 categories (noise comes from another one)")
    table = s.table() if table is None else table
    rng = keys.generator(seed, "instance", category, index)
    attempts = 0

    def draw_noise_category():
        k = int(rng.integers(n_cat - 1))
        return k + 1 if k >= category else k

    noise_cat = draw_noise_category()
    row = index % len(table)
    authors = s.noise_placement == "authors"
    p_main = ifs.probabilities(systems[category]) if s.probabilities == "keep" else None
    while True:
        main = _normalized_cloud(
            ifs.fluctuate(systems[category], table[row]), s.n_main, rng, s, p_main, s.n_main / s.n_points if authors else None
        )
        if main is not None:
            break
        attempts += 1
        if attempts >= MAX_ATTEMPTS:
            raise RuntimeError(f"category {category}, instance {index}: {MAX_ATTEMPTS} fluctuated systems diverged")
        row = int(rng.integers(len(table)))
    while True:
        noise = _normalized_cloud(
            systems[noise_cat], s.n_points - s.n_main, rng, s, None, (s.n_points - s.n_main) / s.n_points if authors else None
        )
        if noise is not None:
            break
        attempts += 1
        if attempts >= MAX_ATTEMPTS:
            raise RuntimeError(f"category {category}, instance {index}: {MAX_ATTEMPTS} noise systems diverged")
        noise_cat = draw_noise_category()
    if out is None:
        out = np.empty((s.n_points, 3), dtype=np.float32)
    _mix(main, noise, out)
    return Instance(out, category, noise_cat, row, attempts)


def make_category_instances(
    systems: list[np.ndarray], category: int, count: int, seed: int, settings: InstanceSettings = InstanceSettings(), start: int = 0
):
    """Instances ``start .. start+count-1`` of one category as arrays.

    Returns:
        points (count, n_points, 3) float32 and info (count, 3) int32 with columns
        (noise_category, weight_row, attempts).
    """
    table = settings.table()
    points = np.empty((count, settings.n_points, 3), dtype=np.float32)
    info = np.empty((count, 3), dtype=np.int32)
    for j in range(count):
        inst = make_instance(systems, category, start + j, seed, settings, table, out=points[j])
        info[j] = (inst.noise_category, inst.weight_row, inst.attempts)
    return points, info
