"""Iterated function systems: parameters, named samplers, probabilities, weight tables.

A system of N affine maps in D dimensions is a float64 array ``params`` of shape
``(N, D*D + D)``: each row holds the matrix row-major, then the translation. In 3D the
columns are the authors' a..l: x' = a x + b y + c z + j, y' = d x + e y + f z + k,
z' = g x + h y + i z + l. In 2D they are a..f: x' = a x + b y + e, y' = c x + d y + f.
Selection probabilities are p_j = |det A_j| / sum_k |det A_k| (PCFRACTALDB.md sec. 1, 3).
"""

from __future__ import annotations

import numpy as np

PARAM_NAMES_3D = tuple("abcdefghijkl")
PARAM_NAMES_2D = tuple("abcdef")
N_MAPS_RANGE = (2, 7)  # N uniform in {2..7}, both papers
WEIGHT_TABLE_ROWS = (145, 121, 97, 73, 49, 25, 1)  # 1 == "none" (identity only)


def n_params(dim: int) -> int:
    """Parameters per map in ``dim`` dimensions (12 in 3D, 6 in 2D)."""
    return dim * dim + dim


def dim_of(params: np.ndarray) -> int:
    """Dimension D of a system from its parameter count D*D + D."""
    k = params.shape[-1]
    for d in (2, 3):
        if n_params(d) == k:
            return d
    raise ValueError(f"a map has 6 (2D) or 12 (3D) parameters, got {k}")


def split(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the matrices ``(N, D, D)`` and translations ``(N, D)`` of a system."""
    d = dim_of(params)
    params = np.asarray(params, dtype=np.float64)
    return params[:, : d * d].reshape(-1, d, d), params[:, d * d :]


def probabilities(params: np.ndarray) -> np.ndarray:
    """Selection probabilities ``|det A_j| / sum |det A_k|``, shape (N,), float64.

    Raises ValueError when every determinant is zero (no valid distribution).
    """
    a, _ = split(params)
    dets = np.abs(np.linalg.det(a))
    total = dets.sum()
    if not np.isfinite(total) or total <= 0.0:
        raise ValueError("every map of the system is singular (sum of |det| is 0)")
    return dets / total


def sample_uniform(rng: np.random.Generator, dim: int = 3, n_maps: tuple[int, int] = N_MAPS_RANGE) -> np.ndarray:
    """The authors' sampler: N uniform in ``n_maps`` (inclusive), every entry U[-1, 1].

    Draws only ``rng.random()`` doubles in a fixed order (N first, then the N rows), the
    same order as the numba search kernel, so a stream position reproduces a candidate.
    """
    lo, hi = n_maps
    n = lo + int(rng.random() * (hi - lo + 1))
    return rng.random((n, n_params(dim))) * 2.0 - 1.0


SAMPLERS = {"uniform": sample_uniform}


def sample_system(rng: np.random.Generator, dim: int = 3, sampler: str = "uniform", **kwargs) -> np.ndarray:
    """Draw one system with a named sampler (default: the authors' "uniform")."""
    try:
        fn = SAMPLERS[sampler]
    except KeyError:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {sorted(SAMPLERS)}") from None
    return fn(rng, dim, **kwargs)


def weight_factors(rows: int, n_param: int = 12, step: float = 0.1) -> np.ndarray:
    """Factors of a weight table with ``rows`` rows over ``n_param`` parameters.

    ``rows = 1 + n_param * 2k``; the factors are 1 -/+ step * (1..k). With step 0.1:
    145 rows -> 0.4..0.9, 1.1..1.6 (3D default); 25 rows over 6 params -> 0.8, 0.9, 1.1,
    1.2 (FractalDB). ``rows == 1`` is "none": the identity alone.
    """
    if rows < 1 or (rows - 1) % (2 * n_param):
        raise ValueError(f"a weight table over {n_param} parameters has 1 + {2 * n_param}k rows, got {rows}")
    k = (rows - 1) // (2 * n_param)
    below = [round(1.0 - step * i, 10) for i in range(k, 0, -1)]
    above = [round(1.0 + step * i, 10) for i in range(1, k + 1)]
    return np.array(below + above, dtype=np.float64)


def weight_table(rows: int = 145, n_param: int = 12, step: float = 0.1) -> np.ndarray:
    """Weight table ``(rows, n_param)``: row 0 is all ones; every other row multiplies ONE
    parameter by one factor (parameter-major order: a x f1, a x f2, ..., b x f1, ...)."""
    factors = weight_factors(rows, n_param, step)
    table = np.ones((rows, n_param), dtype=np.float64)
    r = 1
    for j in range(n_param):
        for f in factors:
            table[r, j] = f
            r += 1
    return table


def fluctuate(params: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Multiply every map's parameters by one weight row, shape (n_param,)."""
    return np.asarray(params, dtype=np.float64) * np.asarray(weights, dtype=np.float64)[None, :]
