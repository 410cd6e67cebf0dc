"""Export a scene with its boxes through trimesh, to open in any 3D viewer.

- GLB (``.glb``): a point cloud coloured by instance plus the box edges as line paths
  (Blender, MeshLab, three.js, https://gltf-viewer.donmccurdy.com).
- PLY (``.ply``): one mesh whose vertices are the scene's points (coloured by instance,
  unreferenced by faces) followed by thin tubes along the 12 edges of every box, in the
  box's colour (MeshLab and CloudCompare show both).

Colours: ``instance_colors`` (background grey, objects by a fixed palette of well-spread hues).
Both formats need the ``[viewer]`` extra (trimesh; GLB also scipy): without it ``export``
raises ImportError naming ``pip install 'pcfractal[viewer]'``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from pcfractal.io import atomic

from ..layout import BOX_EDGES, box_corners
from ._base import SceneWriter, register

BACKGROUND_RGB = (150, 150, 150)
VIEWER_EXTRA = "pip install 'pcfractal[viewer]'"


def require(module: str, what: str, extra: str = VIEWER_EXTRA):
    """Import ``module``, or raise ImportError in one line naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(f"{what} needs {e.name}, which is not installed: {extra}", name=e.name) from None


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 distinct colours (golden-ratio hues, full saturation, bright)."""
    h = (np.arange(n) * 0.61803398875 + 0.1) % 1.0
    i = np.floor(h * 6).astype(int)
    f = h * 6 - i
    v, s = 0.95, 0.8
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i % 6, [v * np.ones_like(h), q, p, p, t, v * np.ones_like(h)])
    g = np.choose(i % 6, [t, v * np.ones_like(h), v * np.ones_like(h), q, p, p])
    b = np.choose(i % 6, [p, p, t, v * np.ones_like(h), v * np.ones_like(h), q])
    return (np.stack([r, g, b], 1) * 255).round().astype(np.uint8)


def instance_colors(instance_mask: np.ndarray, n_objects: int | None = None) -> np.ndarray:
    """(P, 3) uint8 colours: object id k (>= 1) gets palette[k - 1], background (0) grey."""
    m = np.asarray(instance_mask, dtype=np.int64)
    n = int(m.max()) if n_objects is None and len(m) else int(n_objects or 0)
    lut = np.vstack([np.array(BACKGROUND_RGB, np.uint8)[None], palette(max(n, 1))])
    return lut[np.clip(m, 0, len(lut) - 1)]


def _edge_tubes(boxes: np.ndarray, width: float):
    """Vertices (K*12*8, 3) and faces of thin cuboids along every box edge."""
    import trimesh

    unit = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    uv, uf = np.asarray(unit.vertices), np.asarray(unit.faces)
    verts, faces = [], []
    for b in np.asarray(boxes, dtype=np.float64).reshape(-1, 7):
        dx, dy, dz = b[3:6]
        c, s = np.cos(b[6]), np.sin(b[6])
        for axis in range(3):
            size = np.array([dx, dy, dz])
            for sa in (-0.5, 0.5):
                for sb in (-0.5, 0.5):
                    centre = np.zeros(3)
                    others = [a for a in range(3) if a != axis]
                    centre[others[0]] = sa * size[others[0]]
                    centre[others[1]] = sb * size[others[1]]
                    ext = np.full(3, width)
                    ext[axis] = size[axis] + width
                    local = uv * ext + centre
                    world = np.empty_like(local)
                    world[:, 0] = b[0] + c * local[:, 0] - s * local[:, 1]
                    world[:, 1] = b[1] + s * local[:, 0] + c * local[:, 1]
                    world[:, 2] = b[2] + local[:, 2]
                    faces.append(uf + sum(len(v) for v in verts))
                    verts.append(world)
    if not verts:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    return np.vstack(verts), np.vstack(faces)


def to_trimesh_scene(points: np.ndarray, instance_mask: np.ndarray, boxes: np.ndarray):
    """A ``trimesh.Scene``: "points" (coloured PointCloud) and "boxes" (Path3D of the edges)."""
    import trimesh

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    rgb = instance_colors(instance_mask, len(boxes))
    rgba = np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], 1)
    sc = trimesh.Scene()
    sc.add_geometry(trimesh.PointCloud(np.asarray(points, dtype=np.float64), colors=rgba), node_name="points", geom_name="points")
    if len(boxes):
        segs = box_corners(boxes)[:, BOX_EDGES].reshape(-1, 2, 3)
        path = trimesh.load_path(segs)
        sc.add_geometry(path, node_name="boxes", geom_name="boxes")
    return sc


def to_ply_mesh(points: np.ndarray, instance_mask: np.ndarray, boxes: np.ndarray, edge_width: float = 0.02):
    """A ``trimesh.Trimesh``: the points as loose coloured vertices, then the box-edge tubes."""
    import trimesh

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    rgb = instance_colors(instance_mask, len(boxes))
    tv, tf = _edge_tubes(boxes, edge_width)
    box_rgb = palette(max(len(boxes), 1))[np.repeat(np.arange(len(boxes)), 12 * 8)] if len(boxes) else np.zeros((0, 3), np.uint8)
    verts = np.vstack([np.asarray(points, dtype=np.float64), tv])
    colors = np.vstack([rgb, box_rgb])
    colors = np.concatenate([colors, np.full((len(colors), 1), 255, np.uint8)], 1)
    return trimesh.Trimesh(vertices=verts, faces=tf + len(points), vertex_colors=colors, process=False, validate=False)


def mesh_bytes(kind: str, points: np.ndarray, instance_mask: np.ndarray, boxes: np.ndarray) -> bytes:
    """A scene with its boxes as ``kind`` ("glb" or "ply") file bytes."""
    if kind not in ("glb", "ply"):
        raise ValueError(f"export to .glb or .ply, not {kind or 'no suffix'}")
    require("trimesh", f"{kind.upper()} scene export")
    if kind == "glb":
        require("scipy", "GLB scene export (trimesh's GLB writer)")
        return to_trimesh_scene(points, instance_mask, boxes).export(file_type="glb")
    return to_ply_mesh(points, instance_mask, boxes).export(file_type="ply", encoding="binary")


def export(path: str | os.PathLike, points: np.ndarray, instance_mask: np.ndarray, boxes: np.ndarray) -> Path:
    """Write a scene with its boxes to ``path`` (.glb or .ply, by the suffix), atomically."""
    path = Path(path)
    try:
        data = mesh_bytes(path.suffix.lower().lstrip("."), points, instance_mask, boxes)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return atomic.write_bytes(path, data)


def export_scene(path: str | os.PathLike, scene) -> Path:
    """``export`` for a ``scene_builder.Scene``."""
    return export(path, scene.points, scene.instance_mask, scene.boxes)


class _MeshWriter(SceneWriter):
    """Each scene as one file with its boxes, ``{index:06d}.{name}`` (to look at, not to train)."""

    options = ()

    def owns(self, rel: str, count: int) -> bool:
        stem, dot, ext = rel.partition(".")
        return ext == self.name and len(stem) == 6 and stem.isdigit() and int(stem) < count

    def write_scene(self, w, scene) -> dict:
        data = mesh_bytes(self.name, scene.points, scene.instance_mask, scene.boxes)
        w.write(f"{scene.index:06d}.{self.name}", data)
        return {"objects": int(scene.num_objects)}


@register
class GlbWriter(_MeshWriter):
    name = "glb"


@register
class PlyWriter(_MeshWriter):
    name = "ply"
