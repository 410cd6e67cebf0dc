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
    s_lo, s_span = float(size_range[0]), float(size_range[1] - size_range[0])
    a_lo, a_span = float(aspect_range[0]), float(aspect_range[1] - aspect_range[0])
    y_lo, y_span = float(yaw_range[0]), float(yaw_range[1] - yaw_range[0])
    half, room = 0.5 * room_size, float(room_size)
    rows: list[tuple] = []
    placed_xyr: list[tuple[float, float, float]] = []  # centre and half footprint diagonal
    for _ in range(wanted):  # plain floats: ~20 objects, a numpy call per try would dominate
        u0, u1, u2, u3 = rng.random(4).tolist()
        dx = s_lo + s_span * u0
        dy = dx * (a_lo + a_span * u1)
        dz = dx * (a_lo + a_span * u2)
        yaw = y_lo + y_span * u3
        r = 0.5 * math.hypot(dx, dy)
        placed = False
        for _ in range(max_tries):
            c0, c1 = rng.random(2).tolist()
            x = -half + room * c0
            y = -half + room * c1
            for px, py, pr in placed_xyr:
                lim = pr + r + margin
                ddx, ddy = px - x, py - y
                if ddx * ddx + ddy * ddy < lim * lim:
                    break
            else:
                placed = True
                break
        if not placed:
            break
        rows.append((x, y, 0.5 * dz, dx, dy, dz, yaw))
        placed_xyr.append((x, y, r))
    return np.array(rows, dtype=np.float64).reshape(-1, 7), wanted


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


BOX_EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]], dtype=np.int64)
"""The 12 edges of a box as pairs of indices into ``box_corners``' 8 corners."""
