"""ExFractalDB: 3D fractals projected to 2D images (PCFRACTALDB.md sec. 2).

Image ``i`` of category ``c`` draws everything from ``keys.generator(seed, "exfractaldb",
c, i)``, in this order: the camera (a viewpoint uniform on the sphere of radius
``distance`` around the origin, looking at it, plus a roll uniform in [0, 2 pi):
``raster.random_camera``), then the chaos game of the category system fluctuated by weight
row ``i mod rows`` (PC-FractalDB's table, identity for image 0). The cloud is normalised as
PC-FractalDB does (one global min-max to [-1, 1], centred) and drawn as 1-pixel white dots
on black through a 45 deg pinhole camera, 224 px, 100,000 points by default. A fluctuated
system that diverges is replaced deterministically: the row is re-drawn from the same
stream (counted; after ``MAX_ATTEMPTS`` the image fails with its key in the message).

Categories: the PC-FractalDB category search (variance threshold, 0.15 by default) or a
category file from ``build_pcfractal.py categories``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcfractal.core import ifs, keys, raster
from pcfractal.core.chaos import DEFAULT_BOUND, chaos_game
from pcfractal.core.normalize import DEFAULT_VARIANCE_THRESHOLD, check_threshold
from pcfractal.pointclouds.search import SearchSettings, search_categories
from pcfractal.pointclouds.category_file import CategorySet
from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

MAX_ATTEMPTS = 64


@dataclass(frozen=True)
class ExFractalDBSettings:
    """Defaults follow PCFRACTALDB.md sec. 2 (the authors' multi-view camera)."""

    size: int = 224  # image side, pixels
    n_points: int = 100_000  # points per image (the talk: 10k fails to pre-train, 50k works)
    fov_deg: float = 45.0  # pinhole field of view
    distance: float = 4.0  # camera distance from the origin
    weight_rows: int = 145  # fluctuation table (1 = none)
    burn_in: int = 0
    bound: float = DEFAULT_BOUND
    threshold: float = DEFAULT_VARIANCE_THRESHOLD  # category search (when no category file)

    def validate(self) -> "ExFractalDBSettings":
        if self.size <= 0:
            raise ValueError(f"image size must be positive, got {self.size}")
        if self.n_points <= 0:
            raise ValueError(f"points per image must be positive, got {self.n_points}")
        if not 0.0 < self.fov_deg < 180.0:
            raise ValueError(f"field of view must be in (0, 180) degrees, got {self.fov_deg}")
        if not self.distance > 0.0:
            raise ValueError(f"camera distance must be positive, got {self.distance}")
        if self.weight_rows not in ifs.WEIGHT_TABLE_ROWS:
            raise ValueError(f"weight table must have one of {ifs.WEIGHT_TABLE_ROWS} rows, got {self.weight_rows}")
        if self.burn_in < 0:
            raise ValueError(f"burn-in must be >= 0, got {self.burn_in}")
        check_threshold(self.threshold)
        return self


@register
class ExFractalDB(ImageGenerator):
    name = "exfractaldb"
    Settings = ExFractalDBSettings
    description = "3D fractal categories projected from random viewpoints (1-px white points on black)"
    presets = {
        "tiny": {"categories": 4, "per_category": 6},
        "exfractaldb-1k": {"categories": 1000, "per_category": 1000},
        "exfractaldb-21k": {"categories": 21000, "per_category": 1000},
    }

    def make_classes(self, count, seed, settings, executor=None, progress=None) -> ClassSet:
        """Search ``count`` 3D categories (PC-FractalDB's search at ``settings.threshold``)."""
        s = SearchSettings(threshold=settings.threshold).validate()
        tick = None if progress is None else (lambda n, res: progress(n))
        res = search_categories(count, seed, s, executor=executor, progress=tick)
        origin = [{"block": c.block, "offset": c.offset, "variances": [float(v) for v in c.variances]} for c in res.categories]
        info = {"source": "search", "tried": res.tried, "diverged": res.diverged, "acceptance_rate": res.acceptance_rate, "threshold": s.threshold}
        return ClassSet(self.name, [c.params for c in res.categories], seed, settings_dict(settings), origin, info)

    @staticmethod
    def classes_from_categories(cats: CategorySet, settings) -> ClassSet:
        """Use a category file's systems (from ``build_pcfractal.py categories``)."""
        origin = [dict(o) for o in cats.origin] if cats.origin else [{} for _ in cats.systems]
        info = {"source": "category file", "category_seed": cats.seed, "category_settings": cats.settings}
        return ClassSet("exfractaldb", [np.asarray(s, dtype=np.float64) for s in cats.systems], cats.seed, settings_dict(settings), origin, info)

    def render(self, params, category, index, seed, settings, out=None, image=None, table=None) -> np.ndarray:
        s = settings
        table = ifs.weight_table(s.weight_rows, 12) if table is None else table
        rng = keys.generator(seed, self.name, category, index)
        camera = raster.random_camera(rng, s.distance, s.fov_deg, s.size)
        row = index % len(table)
        for attempt in range(MAX_ATTEMPTS):
            pts = chaos_game(ifs.fluctuate(params, table[row]), s.n_points, rng, burn_in=s.burn_in, bound=s.bound, out=out)
            if pts is not None:
                ok, scale, shift = raster.normalization_affine(pts)
                if ok:
                    break
            row = int(rng.integers(len(table)))
        else:
            raise RuntimeError(f"exfractaldb category {category}, image {index}: {MAX_ATTEMPTS} fluctuated systems diverged")
        if image is None:
            image = np.zeros((s.size, s.size), dtype=np.uint8)
        else:
            image[:] = 0
        raster.splat_perspective(pts, camera, image, 255, scale, shift)
        return image

    def render_many(self, params, category, indices, seed, settings):
        table = ifs.weight_table(settings.weight_rows, 12)
        out = np.empty((settings.n_points, 3))
        image = np.zeros((settings.size, settings.size), dtype=np.uint8)
        for i in indices:
            yield i, self.render(params, category, i, seed, settings, out=out, image=image, table=table)
