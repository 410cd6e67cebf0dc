"""Independent reference implementations for tests (plain numpy/Python, no pcfractal)."""

from __future__ import annotations

import numpy as np


def reference_chaos(params: np.ndarray, n: int, rng: np.random.Generator, probabilities: np.ndarray | None = None) -> np.ndarray | None:
    """Plain-Python chaos game written independently of pcfractal.core.chaos (one draw per step,
    map j picked when u < cumulative p, origin start, every point kept). ``probabilities``:
    the maps' p (default: |det| of ``params``' own maps, normalised)."""
    d = 3 if params.shape[1] == 12 else 2
    mats = [row[: d * d].reshape(d, d) for row in params]
    trans = [row[d * d :] for row in params]
    if probabilities is None:
        dets = np.array([abs(np.linalg.det(m)) for m in mats])
        probabilities = dets / dets.sum()
    cum = np.cumsum(probabilities)
    u = rng.random(n)
    x = np.zeros(d)
    out = np.empty((n, d))
    for s in range(n):
        j = int(np.searchsorted(cum[:-1], u[s], side="right"))
        x = mats[j] @ x + trans[j]
        if not np.all(np.abs(x) < 1e9):
            return None
        out[s] = x
    return out


def reference_normalize(points: np.ndarray) -> np.ndarray:
    """Global min-max to [-1, 1] over all coordinates, then centre (independent numpy)."""
    lo, hi = points.min(), points.max()
    p = 2.0 * (points - lo) / (hi - lo) - 1.0
    return p - p.mean(axis=0)
