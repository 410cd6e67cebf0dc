"""Binary PLY point clouds, written with numpy alone.

A PLY point cloud is a short ASCII header and one packed record per vertex, so a plain
writer is a few lines. It replaces Open3D for ``instances --ply``: generation must not need
Open3D (a large package with GUI dependencies, see the ``[viewer]`` extra) to write a file
every 3D viewer reads. Open3D, trimesh, MeshLab and CloudCompare read what this writes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import atomic


def ply_bytes(points: np.ndarray, colors: np.ndarray | None = None) -> bytes:
    """Binary little-endian PLY of (P, 3) ``points`` (stored as float32) and optional (P, 3)
    uint8 ``colors`` (red, green, blue). Raises ValueError on shapes that do not fit."""
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"PLY points must be (P, 3), got {pts.shape}")
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape != pts.shape:
            raise ValueError(f"PLY colors must be (P, 3) like the points {pts.shape}, got {colors.shape}")
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    rec = np.empty(len(pts), dtype=fields)
    for k, axis in enumerate("xyz"):
        rec[axis] = pts[:, k]
    if colors is not None:
        for k, name in enumerate(("red", "green", "blue")):
            rec[name] = colors[:, k]
    types = {"<f4": "float", "u1": "uchar"}
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(pts)}"]
    header += [f"property {types[t]} {name}" for name, t in fields]
    header += ["end_header", ""]
    return "\n".join(header).encode("ascii") + rec.tobytes()


def write_ply(path: str | os.PathLike, points: np.ndarray, colors: np.ndarray | None = None) -> Path:
    """Write ``ply_bytes(points, colors)`` to ``path`` atomically; return the path."""
    return atomic.write_bytes(Path(path), ply_bytes(points, colors))
