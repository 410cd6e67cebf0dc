"""Category search: rejection sampling of IFS systems by the variance check.

Candidates come in fixed-size *blocks*. Block b draws everything (the system, then its
chaos game) from one generator keyed ("search", b), so a candidate is named by
(block, stream offset) and can be rebuilt alone: ``candidate_generator``. Blocks run in
parallel; the accepted list is the first ``count`` accepted candidates in (block, offset)
order, so it does not depend on the number of workers. The whole evaluation of a block runs
in one numba call; a diverging candidate stops at its first out-of-bound step.

Pre-screen (on by default, ``screen_points=0`` turns it off): after the first
``screen_points`` steps of a candidate's orbit, a candidate whose prefix would have a
normalised axis variance at or below ``screen_factor * threshold`` is rejected without the
remaining steps. The orbit is the same one the full check continues, so an accepted
candidate always passed the full, exact check; the screen can only lose a candidate whose
first 500 points are far flatter than its 10,000. benchmarks/bench_search.py counts such
losses against the exact search on the same blocks (none seen so far: see README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..core import ifs, keys
from ..core.chaos import DEFAULT_BOUND, chaos_fill3, determinant
from ..core.normalize import DEFAULT_VARIANCE_THRESHOLD, axis_variances, check_threshold, normalize_inplace, normalized_variances

SEARCH_POINTS = 10_000  # points per trial, as in the authors' search
BLOCK_SIZE = 4096  # candidates per work unit; part of the output's definition, keep fixed


@dataclass(frozen=True)
class SearchSettings:
    """What defines a search (and so its result). Defaults follow PCFRACTALDB.md sec. 1."""

    threshold: float = DEFAULT_VARIANCE_THRESHOLD
    n_points: int = SEARCH_POINTS
    sampler: str = "uniform"
    n_maps: tuple[int, int] = ifs.N_MAPS_RANGE
    burn_in: int = 0
    bound: float = DEFAULT_BOUND
    block_size: int = BLOCK_SIZE
    screen_points: int = 500
    screen_factor: float = 0.5
    dim = 3  # the variance search is for 3D systems

    def validate(self) -> "SearchSettings":
        check_threshold(self.threshold)
        if self.n_points < 2:
            raise ValueError(f"points per trial must be at least 2, got {self.n_points}")
        if self.sampler not in ifs.SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {sorted(ifs.SAMPLERS)}")
        lo, hi = self.n_maps
        if not 1 <= lo <= hi <= 64:
            raise ValueError(f"map count range must satisfy 1 <= lo <= hi, got {self.n_maps}")
        if self.burn_in < 0 or self.block_size < 1 or not self.bound > 0:
            raise ValueError("burn_in must be >= 0, block_size >= 1 and bound > 0")
        if self.screen_points < 0 or not 0.0 <= self.screen_factor <= 1.0:
            raise ValueError("screen_points must be >= 0 and screen_factor in [0, 1]")
        return self


@dataclass
class Candidate:
    """An accepted system and where it came from."""

    params: np.ndarray  # (N, D*D + D) float64
    block: int
    offset: int  # draws consumed in the block's stream before this candidate
    variances: np.ndarray  # per-axis variance of its normalised search cloud


@dataclass
class BlockResult:
    block: int
    tried: int
    diverged: int
    accepted: list[Candidate] = field(default_factory=list)


@njit(cache=True, nogil=True)
def _search_block(
    rng, n_cand, n_lo, n_hi, n_points, burn_in, bound, threshold, screen, screen_factor, acc_params, acc_n, acc_offset, acc_var
):
    """Evaluate ``n_cand`` uniform-sampler 3D candidates; return (n_accepted, n_diverged).

    Draw order per candidate (mirrored by ``ifs.sample_uniform`` + ``chaos.chaos_game``):
    one double for N, N * P doubles for the maps, then one double per chaos-game step
    (``burn_in + screen`` of them, then the rest when the screen is passed).
    """
    dim = 3
    p_count = dim * dim + dim
    x = np.zeros(dim)
    params = np.empty((n_hi, p_count))
    a = np.empty((n_hi, dim, dim))
    t = np.empty((n_hi, dim))
    cum = np.empty(n_hi)
    pts = np.empty((n_points, dim))
    u = np.empty(burn_in + n_points)
    draws = 0
    n_acc = 0
    n_div = 0
    for _ in range(n_cand):
        start = draws
        n = n_lo + int(rng.random() * (n_hi - n_lo + 1))
        draws += 1
        for j in range(n):
            for k in range(p_count):
                params[j, k] = rng.random() * 2.0 - 1.0
        draws += n * p_count
        total = 0.0
        for j in range(n):
            for r in range(dim):
                for c in range(dim):
                    a[j, r, c] = params[j, r * dim + c]
                t[j, r] = params[j, dim * dim + r]
            dj = abs(determinant(a[j]))
            cum[j] = dj
            total += dj
        if not total > 0.0:
            continue
        run = 0.0
        for j in range(n):
            run += cum[j] / total
            cum[j] = run
        cum[n - 1] = 1.0
        x[:] = 0.0
        head = screen if 0 < screen < n_points else n_points
        for i in range(burn_in + head):
            u[i] = rng.random()
        draws += burn_in + head
        ok, _ = chaos_fill3(a[:n], t[:n], cum[:n], u[: burn_in + head], pts[:head], x, burn_in, bound)
        if ok and head < n_points:
            if normalized_variances(pts[:head]).min() <= screen_factor * threshold:
                continue
            for i in range(n_points - head):
                u[i] = rng.random()
            draws += n_points - head
            ok, _ = chaos_fill3(a[:n], t[:n], cum[:n], u[: n_points - head], pts[head:], x, 0, bound)
        if not ok:
            n_div += 1
            continue
        if not normalize_inplace(pts):
            continue
        var = axis_variances(pts)
        good = True
        for r in range(dim):
            if not var[r] > threshold:
                good = False
        if good:
            acc_params[n_acc, :n, :] = params[:n]
            acc_n[n_acc] = n
            acc_offset[n_acc] = start
            acc_var[n_acc, :] = var
            n_acc += 1
    return n_acc, n_div


def search_block(seed: int, block: int, settings: SearchSettings) -> BlockResult:
    """Evaluate one block of candidates (pure: depends on seed, block and settings only)."""
    s = settings
    lo, hi = s.n_maps
    acc_params = np.zeros((s.block_size, hi, ifs.n_params(s.dim)))
    acc_n = np.zeros(s.block_size, dtype=np.int64)
    acc_offset = np.zeros(s.block_size, dtype=np.int64)
    acc_var = np.zeros((s.block_size, s.dim))
    rng = keys.generator(seed, "search", block)
    n_acc, n_div = _search_block(
        rng,
        s.block_size,
        lo,
        hi,
        s.n_points,
        s.burn_in,
        s.bound,
        s.threshold,
        s.screen_points,
        s.screen_factor,
        acc_params,
        acc_n,
        acc_offset,
        acc_var,
    )
    accepted = [Candidate(acc_params[i, : acc_n[i]].copy(), block, int(acc_offset[i]), acc_var[i].copy()) for i in range(n_acc)]
    return BlockResult(block, s.block_size, int(n_div), accepted)


def candidate_generator(seed: int, block: int, offset: int) -> np.random.Generator:
    """The generator positioned at a candidate: ``ifs.sample_uniform`` then
    ``chaos.chaos_game`` on it reproduce that candidate's system and search cloud."""
    bg = keys.bit_generator(seed, "search", block)
    bg.advance(offset)
    return np.random.Generator(bg)


@dataclass
class SearchResult:
    categories: list[Candidate]
    tried: int
    diverged: int
    blocks: int

    @property
    def acceptance_rate(self) -> float:
        return len(self.categories) / self.tried if self.tried else 0.0


def search_categories(
    count: int, seed: int, settings: SearchSettings = SearchSettings(), *, executor=None, progress=None, max_candidates: int | None = None
) -> SearchResult:
    """Find ``count`` categories; the result does not depend on the executor's worker count.

    Args:
        count: categories wanted (> 0).
        seed: the user's seed.
        settings: threshold, points per trial, sampler...
        executor: a ``pcfractal.build.executor`` executor (defaults to in-process).
        progress: optional callable ``progress(n_accepted_so_far, block_result)``.
        max_candidates: give up (RuntimeError) after this many candidates.
    """
    from ..build.executor import LocalExecutor

    if count <= 0:
        raise ValueError(f"category count must be positive, got {count}")
    settings.validate()
    keys.check_seed(seed)
    executor = executor or LocalExecutor(workers=1)
    found: list[Candidate] = []
    tried = diverged = blocks = 0

    def blocks_needed():
        b = 0
        while True:
            yield b
            b += 1

    # Results arrive in block order, so stopping at the first prefix with enough categories
    # gives the same list whatever the number of workers.
    for res in executor.imap(search_block, ((seed, b, settings) for b in blocks_needed())):
        blocks += 1
        tried += res.tried
        diverged += res.diverged
        found.extend(res.accepted)
        if progress is not None:
            progress(min(len(found), count), res)
        if len(found) >= count:
            break
        if max_candidates is not None and tried >= max_candidates:
            raise RuntimeError(
                f"found only {len(found)} of {count} categories in {tried} candidates "
                f"(threshold {settings.threshold}); lower the threshold or raise the limit"
            )
    return SearchResult(found[:count], tried, diverged, blocks)
