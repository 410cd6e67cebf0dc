"""Normalisation and the acceptance measures (variance check, filling rate).

PC-FractalDB normalises a cloud with ONE global min-max over all coordinates to [-1, 1]
(keeping the aspect ratio), then subtracts the centroid; a system is a category when every
per-axis variance of that cloud is strictly above the threshold (PCFRACTALDB.md sec. 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

DEFAULT_VARIANCE_THRESHOLD = 0.15  # the paper's talk; the authors' scripts use 0.05


@njit(cache=True, nogil=True)
def global_range(points):
    """(min, max) over every coordinate of (n, D) points."""
    lo = np.inf
    hi = -np.inf
    for i in range(points.shape[0]):
        for r in range(points.shape[1]):
            v = points[i, r]
            lo = min(lo, v)
            hi = max(hi, v)
    return lo, hi


@njit(cache=True, nogil=True)
def normalize_inplace(points):
    """Global min-max to [-1, 1], then centre, in place; return False if degenerate.

    points: (n, D) float64. Degenerate = non-finite or zero extent (all points equal).
    """
    n, d = points.shape
    lo, hi = global_range(points)
    span = hi - lo
    if not (span > 0.0 and np.isfinite(span)):
        return False
    scale = 2.0 / span
    mean = np.zeros(d)
    for i in range(n):
        for r in range(d):
            v = (points[i, r] - lo) * scale - 1.0
            points[i, r] = v
            mean[r] += v
    for r in range(d):
        mean[r] /= n
    for i in range(n):
        for r in range(d):
            points[i, r] -= mean[r]
    return True


@njit(cache=True, nogil=True)
def axis_variances(points):
    """Population variance (ddof=0) of each axis of (n, D) points, float64 (D,)."""
    n, d = points.shape
    mean = np.zeros(d)
    for i in range(n):
        for r in range(d):
            mean[r] += points[i, r]
    for r in range(d):
        mean[r] /= n
    var = np.zeros(d)
    for i in range(n):
        for r in range(d):
            dv = points[i, r] - mean[r]
            var[r] += dv * dv
    for r in range(d):
        var[r] /= n
    return var


@njit(cache=True, nogil=True)
def normalized_variances(points):
    """Per-axis variances the cloud would have after ``normalize_inplace``, without
    modifying it: var * (2 / span)^2 (the centring does not change a variance).
    Returns -1 for every axis when the cloud is degenerate."""
    lo, hi = global_range(points)
    span = hi - lo
    var = axis_variances(points)
    if not (span > 0.0 and np.isfinite(span)):
        var[:] = -1.0
        return var
    return var * (4.0 / (span * span))


def normalize(points: np.ndarray) -> np.ndarray | None:
    """Normalised float64 copy of (n, D) points, or None when degenerate."""
    out = np.array(points, dtype=np.float64, copy=True)
    return out if normalize_inplace(out) else None


def check_threshold(threshold: float) -> float:
    """Validate a variance threshold: it must lie in (0, 1/3] (1/3 is the variance of U[-1, 1])."""
    t = float(threshold)
    if not 0.0 < t <= 1.0 / 3.0:
        raise ValueError(f"variance threshold must be in (0, 1/3], got {threshold}")
    return t


def filling_rate(image: np.ndarray) -> float:
    """Fraction of lit (non-zero) pixels of a 2D image (FractalDB's category criterion)."""
    image = np.asarray(image)
    return float(np.count_nonzero(image)) / float(image.size)
