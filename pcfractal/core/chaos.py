"""The chaos game: numba kernels shared by every 2D and 3D generator.

One step picks map j with probability p_j (one ``rng.random()`` draw, compared against the
cumulative probabilities) and applies x <- A_j x + t_j, starting from the origin. Every
point is kept (no burn-in by default, like the authors' code). A step whose coordinates are
not finite or exceed ``bound`` in magnitude stops the run: the system diverges, and a
rejected candidate costs only the steps taken so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import ifs

DRAW_CHUNK = 1 << 15  # draws per kernel call for long orbits (256 KiB: stays in cache)
DEFAULT_BOUND = 1e9  # |coordinate| above this counts as diverging (float64 overflows near 1e308)


@njit(cache=True, nogil=True)
def determinant(a):
    """Determinant of a 2x2 or 3x3 matrix (numba-friendly, no LAPACK)."""
    if a.shape[0] == 2:
        return a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    return (
        a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
        - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
        + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
    )


def _make_chaos_fill(dim: int):
    """Build the chaos-game kernel for one dimension.

    ``dim`` is a closure constant, so numba unrolls the affine step: measured 10-15 ns per
    3D point against about 90 ns for one kernel with a run-time dimension. numba's cache
    keys closures by their cell contents, so the 2D and 3D kernels are cached apart.
    """

    @njit(cache=True, nogil=True, inline="always")
    def step(a, t, cum_p, u, x, y, bound):
        """One chaos-game step from x (in place); False when the new point is out of bound."""
        k = 0
        for j in range(cum_p.shape[0] - 1):  # branch-free map selection: 2x faster than a search
            k += u >= cum_p[j]
        ok = True
        for r in range(dim):
            acc = t[k, r]
            for c in range(dim):
                acc += a[k, r, c] * x[c]
            y[r] = acc
            ok &= abs(acc) < bound  # False for NaN too
        for r in range(dim):
            x[r] = y[r]
        return ok

    @njit(cache=True, nogil=True)
    def chaos_fill(a, t, cum_p, u, out, x, burn_in, bound):
        """Run the chaos game into ``out`` (n, D) float64; return (ok, steps taken).

        a: (N, D, D) matrices, t: (N, D) translations, cum_p: (N,) cumulative
        probabilities (last entry 1), u: (burn_in + n,) uniform draws in [0, 1), one per
        step, x: (D,) current point, updated in place (start at the origin; pass the last
        point to continue an orbit). ``burn_in`` steps come before the first stored point.
        ok is False when the orbit left [-bound, bound] or became NaN.

        The draws come as an array, not a Generator: numba types a Generator argument on
        every call (about 80 us), more than a whole 4,000-point instance costs.
        """
        if u.shape[0] < burn_in + out.shape[0]:
            raise ValueError("chaos_fill: fewer draws than burn_in + points")
        y = np.empty(dim)
        for s in range(burn_in):
            if not step(a, t, cum_p, u[s], x, y, bound):
                return False, s + 1
        for s in range(out.shape[0]):
            if not step(a, t, cum_p, u[burn_in + s], x, y, bound):
                return False, burn_in + s + 1
            for r in range(dim):
                out[s, r] = x[r]
        return True, burn_in + out.shape[0]

    return chaos_fill


CHAOS_FILL = {2: _make_chaos_fill(2), 3: _make_chaos_fill(3)}
chaos_fill3 = CHAOS_FILL[3]


def cumulative(p: np.ndarray) -> np.ndarray:
    """Cumulative probabilities with the last entry forced to exactly 1."""
    c = np.cumsum(np.asarray(p, dtype=np.float64))
    c[-1] = 1.0
    return c


def chaos_game(
    params: np.ndarray,
    n_points: int,
    rng: np.random.Generator,
    *,
    probabilities: np.ndarray | None = None,
    burn_in: int = 0,
    bound: float = DEFAULT_BOUND,
    out: np.ndarray | None = None,
) -> np.ndarray | None:
    """Points of an IFS by the chaos game, or None when it diverges.

    Args:
        params: (N, D*D + D) system (see ``pcfractal.core.ifs``), D = 2 or 3.
        n_points: points to return (> 0).
        rng: the generator that drives map selection (``burn_in + n_points`` draws of
            ``rng.random``, in one call, whether or not the orbit diverges).
        probabilities: (N,) map probabilities; defaults to normalised |det A|.
        burn_in: steps discarded first. Defaults to 0 (the authors keep every point).
        bound: divergence bound on |coordinate|.
        out: optional (n_points, D) float64 buffer to fill.

    Returns:
        (n_points, D) float64 array, or None if the orbit diverged.
    """
    if n_points <= 0:
        raise ValueError(f"n_points must be positive, got {n_points}")
    a, t = ifs.split(params)
    p = ifs.probabilities(params) if probabilities is None else probabilities
    if out is None:
        out = np.empty((n_points, a.shape[1]), dtype=np.float64)
    kernel = CHAOS_FILL[a.shape[1]]
    a, t, cum = np.ascontiguousarray(a), np.ascontiguousarray(t), cumulative(p)
    x = np.zeros(a.shape[1])
    total = burn_in + n_points
    if total <= DRAW_CHUNK:
        ok, _ = kernel(a, t, cum, rng.random(total), out, x, burn_in, bound)
        return out if ok else None
    # Long orbits: draw in cache-sized chunks and continue the orbit from x (same stream,
    # same points; keeps the draws in L2 instead of a burn_in + n_points array in RAM).
    u = np.empty(DRAW_CHUNK)
    burn_left, done = burn_in, 0
    while burn_left or done < n_points:
        if burn_left:  # a chunk of burn-in steps only
            k = min(DRAW_CHUNK, burn_left)
            target, skip = out[:0], k
            burn_left -= k
        else:
            k = min(DRAW_CHUNK, n_points - done)
            target, skip = out[done : done + k], 0
            done += k
        rng.random(out=u[:k])
        ok, _ = kernel(a, t, cum, u[:k], target, x, skip, bound)
        if not ok:
            return None
    return out
