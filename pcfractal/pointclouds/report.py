"""Build reports: the category gallery picture and the statistics of a build."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..core import keys, raster
from ..core.chaos import chaos_game
from ..core.normalize import normalize_inplace

# A fixed oblique view (30 deg about x, then 45 deg about z) so a gallery shows depth.
_C, _S = np.cos(np.pi / 4), np.sin(np.pi / 4)
_VIEW = np.array([[1, 0, 0], [0, np.cos(np.pi / 6), -np.sin(np.pi / 6)], [0, np.sin(np.pi / 6), np.cos(np.pi / 6)]]) @ np.array(
    [[_C, -_S, 0], [_S, _C, 0], [0, 0, 1]]
)


def category_tile(system: np.ndarray, size: int = 128, n_points: int = 20_000, seed: int = 0, index: int = 0) -> np.ndarray:
    """A ``size`` px grayscale picture of one 3D category (oblique orthographic view)."""
    pts = chaos_game(system, n_points, keys.generator(seed, "gallery", index))
    tile = np.zeros((size, size), dtype=np.uint8)
    if pts is None or not normalize_inplace(pts):
        return tile
    xy = (pts @ _VIEW.T)[:, [0, 2]]
    raster.splat(raster.fit_to_pixels(xy, size), tile, 255)
    return tile


def gallery_png(systems: list[np.ndarray], seed: int = 0, max_tiles: int = 64, size: int = 128) -> bytes:
    """PNG bytes of a grid of the first ``max_tiles`` categories (deterministic bytes)."""
    tiles = [category_tile(s, size, seed=seed, index=i) for i, s in enumerate(systems[:max_tiles])]
    columns = int(np.ceil(np.sqrt(len(tiles))))
    return png_bytes(raster.tile_grid(tiles, columns, background=40))


def png_bytes(image: np.ndarray, compress_level: int = 6) -> bytes:
    """Encode a uint8 grayscale image as PNG (Pillow adds no time chunk: same bytes each run)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def histogram(values, bins) -> dict:
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins)
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def category_stats(systems: list[np.ndarray], variances: np.ndarray | None, search: dict) -> dict:
    """Statistics of a category set: N histogram, per-axis variance distribution, acceptance."""
    n_maps = [int(s.shape[0]) for s in systems]
    stats = {
        "categories": len(systems),
        "n_maps_histogram": {str(n): n_maps.count(n) for n in range(min(n_maps), max(n_maps) + 1)},
        "search": search,
    }
    if variances is not None and len(variances):
        v = np.asarray(variances)
        stats["variance"] = {
            axis: {
                "min": float(v[:, k].min()), "median": float(np.median(v[:, k])), "max": float(v[:, k].max()),
                "histogram": histogram(v[:, k], bins=np.linspace(0.0, 1.0 / 3.0, 11)),
            }
            for k, axis in enumerate("xyz")
        }
        stats["variance"]["min_over_axes"] = {"min": float(v.min(axis=1).min()), "median": float(np.median(v.min(axis=1)))}
    return stats


def stats_markdown(title: str, stats: dict) -> str:
    """A readable Markdown rendering of a stats dict (the JSON beside it is the data)."""
    lines = [f"# {title}", ""]

    def walk(d, depth):
        for k, v in d.items():
            if isinstance(v, dict) and not {"edges", "counts"} <= v.keys():
                lines.append(f"{'  ' * depth}- **{k}**")
                walk(v, depth + 1)
            elif isinstance(v, dict):
                bars = ", ".join(f"[{a:.3f},{b:.3f}): {c}" for a, b, c in zip(v["edges"], v["edges"][1:], v["counts"]))
                lines.append(f"{'  ' * depth}- {k}: {bars}")
            else:
                lines.append(f"{'  ' * depth}- {k}: {v}")

    walk(stats, 0)
    return "\n".join(lines) + "\n"
