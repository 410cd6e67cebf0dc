"""Scene layouts: box sizes, positions and headings with the overlap rule (PCFRACTALDB.md, "3D scenes").

A layout is drawn from one random generator, in this order (the order is part of the
output's definition):

1. the object count ``base_objects + Poisson(extra_objects_mean)``;
2. per object: ``s ~ U[size_range]``, ``a_y, a_z ~ U[aspect_range]`` and
   ``yaw ~ U[yaw_range]`` (once per object), then up to ``max_tries`` centres
   ``x, y ~ U[-room_size/2, room_size/2]``. A centre is rejected when, for some box already
   placed, the xy distance between the centres is below
   ``(|size_xy 1| + |size_xy 2|) / 2 + margin`` (``|size_xy|`` = the footprint diagonal).
   When no try succeeds the scene stops growing (later objects are not drawn).

Boxes are rows ``(x, y, z, dx, dy, dz, yaw)``: gravity centre (objects stand on the floor
z = 0, so z = dz / 2), full sizes ``dx = s, dy = s*a_y, dz = s*a_z``, yaw about +z,
counter-clockwise, 0 along +x (mmdet3d's DepthInstance3DBoxes convention).
"""

from __future__ import annotations

import math

import numpy as np


def max_footprint(size_range: tuple[float, float], aspect_range: tuple[float, float]) -> float:
    """Largest possible footprint diagonal |size_xy| (m) of a box under these ranges."""
    s = float(size_range[1])
    return s * math.hypot(1.0, max(abs(aspect_range[0]), abs(aspect_range[1])))


def sample_layout(
    rng: np.random.Generator,
    *,
    base_objects: int = 15,
    extra_objects_mean: float = 5.0,
    size_range: tuple[float, float] = (0.75, 1.25),
    aspect_range: tuple[float, float] = (0.9, 1.1),
    room_size: float = 15.0,
    yaw_range: tuple[float, float] = (-math.pi, math.pi),
    margin: float = 0.25,
    max_tries: int = 100,
) -> tuple[np.ndarray, int]:
    """Draw one layout.

    Args:
        rng: the scene's generator (consumed in the order given in the module docstring).
        The other arguments are the SceneSettings fields of the same names.

    Returns:
        boxes: (K, 7) float64 rows (x, y, z, dx, dy, dz, yaw), K <= the drawn count.
        wanted: the drawn object count (K < wanted when the scene stopped growing).
    """
    wanted = int(base_objects) + (int(rng.poisson(extra_objects_mean)) if extra_objects_mean > 0 else 0)
    boxes = np.empty((wanted, 7), dtype=np.float64)
    radius = np.empty(wanted, dtype=np.float64)  # half the footprint diagonal
    s_lo, s_hi = size_range
    a_lo, a_hi = aspect_range
    y_lo, y_hi = yaw_range
    half = 0.5 * room_size
    k = 0
    for _ in range(wanted):
        u = rng.random(4)
        s = s_lo + (s_hi - s_lo) * u[0]
        dx, dy, dz = s, s * (a_lo + (a_hi - a_lo) * u[1]), s * (a_lo + (a_hi - a_lo) * u[2])
        yaw = y_lo + (y_hi - y_lo) * u[3]
        r = 0.5 * math.hypot(dx, dy)
        placed = False
        for _ in range(max_tries):
            c = rng.random(2)
            x = -half + room_size * c[0]
            y = -half + room_size * c[1]
            if k == 0:
                placed = True
                break
            ddx = boxes[:k, 0] - x
            ddy = boxes[:k, 1] - y
            limit = radius[:k] + r + margin
            if np.all(ddx * ddx + ddy * ddy >= limit * limit):
                placed = True
                break
        if not placed:
            break
        boxes[k] = (x, y, 0.5 * dz, dx, dy, dz, yaw)
        radius[k] = r
        k += 1
    return boxes[:k].copy(), wanted


def overlap_violations(boxes: np.ndarray, margin: float = 0.25) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of boxes that break the overlap rule (for checks and tests)."""
    b = np.asarray(boxes, dtype=np.float64)
    diag = np.hypot(b[:, 3], b[:, 4])
    d = np.hypot(b[:, None, 0] - b[None, :, 0], b[:, None, 1] - b[None, :, 1])
    limit = (diag[:, None] + diag[None, :]) / 2 + margin
    i, j = np.nonzero(np.triu(d < limit, 1))
    return list(zip(i.tolist(), j.tolist()))


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """(K, 8, 3) corners of gravity-centre boxes (x, y, z, dx, dy, dz, yaw).

    Corner order: bottom face (z - dz/2) counter-clockwise starting at local (-,-), then the
    top face in the same order.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    sx = np.array([-1, 1, 1, -1, -1, 1, 1, -1], dtype=np.float64) * 0.5
    sy = np.array([-1, -1, 1, 1, -1, -1, 1, 1], dtype=np.float64) * 0.5
    sz = np.array([-1, -1, -1, -1, 1, 1, 1, 1], dtype=np.float64) * 0.5
    lx = sx[None, :] * b[:, 3:4]
    ly = sy[None, :] * b[:, 4:5]
    lz = sz[None, :] * b[:, 5:6]
    c, s = np.cos(b[:, 6:7]), np.sin(b[:, 6:7])
    out = np.empty((len(b), 8, 3), dtype=np.float64)
    out[..., 0] = b[:, 0:1] + c * lx - s * ly
    out[..., 1] = b[:, 1:2] + s * lx + c * ly
    out[..., 2] = b[:, 2:3] + lz
    return out


BOX_EDGES = np.array(
    [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]], dtype=np.int64
)
"""The 12 edges of a box as pairs of indices into ``box_corners``' 8 corners."""
