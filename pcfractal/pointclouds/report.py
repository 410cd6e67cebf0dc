"""Build reports: the category gallery picture and the statistics of a build."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..core import keys, raster
from ..core.chaos import chaos_game
from ..core.normalize import normalize_inplace
from ..images.gallery import labelled_grid, png
from .instances import InstanceSettings, make_instance

# A fixed oblique view (30 deg about x, then 45 deg about z) so a gallery shows depth.
_C, _S = np.cos(np.pi / 4), np.sin(np.pi / 4)
_VIEW = np.array([[1, 0, 0], [0, np.cos(np.pi / 6), -np.sin(np.pi / 6)], [0, np.sin(np.pi / 6), np.cos(np.pi / 6)]]) @ np.array(
    [[_C, -_S, 0], [_S, _C, 0], [0, 0, 1]]
)
# Depth colour ramp, far to near: dim blue, teal, warm yellow (reads on the dark background).
_RAMP = np.array([[40, 60, 150], [40, 170, 170], [255, 225, 110]], dtype=np.float64)
_LEVELS = 64


def depth_tile(points: np.ndarray, size: int = 128) -> np.ndarray:
    """(size, size, 3) uint8 picture of a 3D cloud in the fixed oblique view, each pixel
    coloured by its nearest point's depth (near: warm and bright, far: dim blue)."""
    tile = np.zeros((size, size, 3), dtype=np.uint8)
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) == 0 or not np.all(np.isfinite(pts)):
        return tile
    v = pts @ _VIEW.T  # x: right, z: up, y: away from the viewer
    pix = raster.fit_to_pixels(v[:, [0, 2]], size)
    col, row = np.floor(pix[:, 0]).astype(np.int64), np.floor(pix[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)
    depth = v[inside, 1]
    span = float(depth.max() - depth.min()) or 1.0
    level = np.round((depth.max() - depth) / span * (_LEVELS - 1)).astype(np.int64) + 1  # 1 far .. LEVELS near
    zbuf = np.zeros(size * size, dtype=np.int64)
    np.maximum.at(zbuf, row[inside] * size + col[inside], level)  # a z-buffer: the nearest point wins
    return _depth_lut()[zbuf].reshape(size, size, 3)


def _depth_lut() -> np.ndarray:
    """(LEVELS + 1, 3) uint8: row 0 empty (black), rows 1..LEVELS the ramp from far to near."""
    t = np.linspace(0.0, 1.0, _LEVELS) * (len(_RAMP) - 1)
    k = np.minimum(t.astype(np.int64), len(_RAMP) - 2)
    ramp = _RAMP[k] + (t - k)[:, None] * (_RAMP[k + 1] - _RAMP[k])
    return np.vstack([np.zeros((1, 3)), ramp]).round().astype(np.uint8)


def category_cloud(system: np.ndarray, n_points: int = 20_000, seed: int = 0, index: int = 0) -> np.ndarray | None:
    """The normalised cloud a gallery shows for a category (its own key), or None if it diverges."""
    pts = chaos_game(system, n_points, keys.generator(seed, "gallery", index))
    if pts is None or not normalize_inplace(pts):
        return None
    return pts


def category_tile(system: np.ndarray, size: int = 128, n_points: int = 20_000, seed: int = 0, index: int = 0) -> np.ndarray:
    """A ``size`` px depth-shaded RGB picture of one 3D category."""
    pts = category_cloud(system, n_points, seed, index)
    return depth_tile(pts, size) if pts is not None else np.zeros((size, size, 3), dtype=np.uint8)


def category_caption(index: int, system: np.ndarray, variances=None) -> list[str]:
    """Caption lines of a category: its index, number of maps and per-axis variances."""
    lines = [f"#{index}  N={int(np.asarray(system).shape[0])} maps"]
    if variances is not None:
        lines.append("var x/y/z " + "/".join(f"{float(v):.2f}" for v in variances))
    return lines


def gallery_image(
    systems: list[np.ndarray],
    seed: int = 0,
    max_tiles: int = 64,
    size: int = 128,
    variances=None,
    instances: int = 3,
    instance_settings: InstanceSettings | None = None,
    columns: int | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 gallery of the first ``max_tiles`` categories: per category its cloud
    (20,000 points) then instances 0..``instances``-1 as the instances stage makes them
    (FractalNoiseMix with ``seed`` and ``instance_settings``: fluctuated maps, 20% noise),
    depth shaded, under a caption (index, maps, ``variances[c]`` when given: the measured
    per-axis variances of the search); ``columns`` categories side by side (default: about square)."""
    n = min(max_tiles, len(systems))
    if n < 1:
        raise ValueError("a gallery needs at least one category")
    settings = (instance_settings or InstanceSettings()).validate()
    k = instances if len(systems) >= 2 else 0  # FractalNoiseMix takes its noise from another category
    table = settings.table()
    cells = []
    for c in range(n):
        tiles = [category_tile(systems[c], size, seed=seed, index=c)]
        tiles += [depth_tile(make_instance(systems, c, i, seed, settings, table).points, size) for i in range(k)]
        cells.append((category_caption(c, systems[c], None if variances is None else variances[c]), tiles))
    return labelled_grid(cells, columns)


def gallery_png(
    systems: list[np.ndarray],
    seed: int = 0,
    max_tiles: int = 64,
    size: int = 128,
    variances=None,
    instances: int = 3,
    instance_settings: InstanceSettings | None = None,
) -> bytes:
    """``gallery_image`` as PNG bytes (deterministic bytes)."""
    return png(gallery_image(systems, seed, max_tiles, size, variances, instances, instance_settings))


def png_bytes(image: np.ndarray, compress_level: int = 6) -> bytes:
    """Encode a uint8 grayscale image as PNG (Pillow adds no time chunk: same bytes each run)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def histogram(values, bins) -> dict:
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins)
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


VARIANCE_BIN = 1.0 / 30.0


def variance_bins(values) -> np.ndarray:
    """Bin edges of width 1/30 from 0 to 1/3, or further when a variance is larger, so every
    value lands in a bin (a normalised axis can reach variance 1)."""
    top = max(1.0 / 3.0, float(np.max(values)) if np.size(values) else 0.0)
    n = max(10, int(np.ceil(top / VARIANCE_BIN - 1e-9)))
    return np.linspace(0.0, n * VARIANCE_BIN, n + 1)


def category_stats(systems: list[np.ndarray], variances: np.ndarray | None, search: dict) -> dict:
    """Statistics of a category set: N histogram, per-axis variance distribution, acceptance."""
    n_maps = [int(s.shape[0]) for s in systems]
    stats = {
        "categories": len(systems),
        "n_maps_histogram": {str(n): n_maps.count(n) for n in range(min(n_maps), max(n_maps) + 1)},
        "search": search,
    }
    if variances is not None and len(variances):
        v = np.asarray(variances, dtype=np.float64)
        bins = variance_bins(v)
        stats["variance"] = {
            axis: {
                "min": float(v[:, k].min()),
                "median": float(np.median(v[:, k])),
                "max": float(v[:, k].max()),
                "histogram": histogram(v[:, k], bins=bins),
            }
            for k, axis in enumerate("xyz")
        }
        stats["variance"]["min_over_axes"] = {"min": float(v.min(axis=1).min()), "median": float(np.median(v.min(axis=1)))}
    return stats


def _readable(v) -> str:
    """A value for stats.md: floats to 4 significant digits (the JSON keeps them all)."""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_readable(x) for x in v) + "]"
    return str(v)


def stats_markdown(title: str, stats: dict) -> str:
    """A readable Markdown rendering of a stats dict (the JSON beside it is the data)."""
    lines = [f"# {title}", ""]

    def walk(d, depth):
        for k, v in d.items():
            if isinstance(v, dict) and not {"edges", "counts"} <= v.keys():
                lines.append(f"{'  ' * depth}- **{k}**")
                walk(v, depth + 1)
            elif isinstance(v, dict):
                last = len(v["counts"]) - 1  # numpy's last bin includes its right edge
                bars = ", ".join(
                    f"[{a:.3f},{b:.3f}{']' if i == last else ')'}: {c}"
                    for i, (a, b, c) in enumerate(zip(v["edges"], v["edges"][1:], v["counts"]))
                )
                lines.append(f"{'  ' * depth}- {k}: {bars}")
            else:
                lines.append(f"{'  ' * depth}- {k}: {_readable(v)}")

    walk(stats, 0)
    return "\n".join(lines) + "\n"
