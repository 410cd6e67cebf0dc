"""ExFractalDB: 3D fractals projected to 2D images (PCFRACTALDB.md sec. 2 and 5).

Views (``views``):
- ``sphere`` (default, our reading of "changing the view-point at random"): image ``i``
  of category ``c`` draws everything from ``keys.generator(seed, "exfractaldb", c, i)``:
  the camera (a viewpoint uniform on the sphere of radius ``distance``, looking at the
  origin, plus a roll uniform in [0, 2 pi): ``raster.random_camera``), then the chaos game
  of the category system fluctuated by weight row ``i mod rows`` (identity for image 0).
- ``authors`` (the released renderer, exfractaldb_render/image_render/render.py): image
  ``i`` is view ``v = i mod 12`` of model ``m = i // 12``; yaw about y = 2 pi v / 12 +
  30 deg + radians(U(-pi, pi)) (their jitter: only +-3.14 deg), zero elevation, up +y,
  stored bottom row first as their glReadPixels returns it (``raster.authors_view_camera``).
  The 12 views of a model share one cloud: row ``m mod rows``, chaos game from
  ``keys.generator(seed, "exfractaldb-model", c, m)``; the jitter comes from the image key.
  The authors' run also uses 10,000 points (preset ``exfractaldb-1k-authors``).

The cloud is normalised as PC-FractalDB does (one global min-max to [-1, 1], centred; the
authors' too) and drawn as 1-pixel white dots on black through a 45 deg pinhole at
distance 4, 224 px, 100,000 points by default. A fluctuated system that diverges is
replaced deterministically: the row is re-drawn from the same stream (after
``MAX_ATTEMPTS`` the image fails with its key in the message). Not reproduced: the
authors' 145-row table (identity in the middle, i x 0.6 repeated where 1.6 was meant);
ours has the identity first and 0.4..1.6.

Categories: the PC-FractalDB category search (variance threshold, 0.15 by default) or a
category file from ``build_pcfractal.py categories`` (``classes_from_path``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pcfractal.core import ifs, keys, raster
from pcfractal.core.chaos import DEFAULT_BOUND, chaos_game
from pcfractal.core.normalize import DEFAULT_VARIANCE_THRESHOLD, check_threshold
from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet
from pcfractal.pointclouds.search import SearchSettings, search_categories

from . import _kernels
from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

MAX_ATTEMPTS = 64
VIEWS = ("sphere", "authors")
AUTHORS_VIEWS = 12  # views per model, turning about y
AUTHORS_OFFSET_DEG = 30.0  # their constant turn before the jitter


def _f(help: str, choices=None):
    return {"help": help, "choices": choices}


def authors_yaw(view: int, jitter_draw: float, n_views: int = AUTHORS_VIEWS) -> float:
    """The authors' yaw (radians) of view ``view``: 2 pi v / n + 30 deg + radians(j) with
    j = -pi + 2 pi ``jitter_draw`` (their random.uniform(-pi, pi), read as degrees)."""
    j = -np.pi + 2.0 * np.pi * jitter_draw
    return 2.0 * np.pi * view / n_views + np.radians(AUTHORS_OFFSET_DEG) + np.radians(j)


@dataclass(frozen=True)
class ExFractalDBSettings:
    """Defaults follow PCFRACTALDB.md sec. 2 (the authors' multi-view camera)."""

    size: int = field(default=224, metadata=_f("image side, pixels"))
    n_points: int = field(
        default=100_000, metadata=_f("points per image (the talk: 10k fails to pre-train, 50k works; the authors' renderer: 10,000)")
    )
    fov_deg: float = field(default=45.0, metadata=_f("pinhole field of view, degrees"))
    distance: float = field(default=4.0, metadata=_f("camera distance from the origin"))
    weight_rows: int = field(default=145, metadata=_f("fluctuation table rows (1 = none)", ifs.WEIGHT_TABLE_ROWS))
    views: str = field(
        default="sphere",
        metadata=_f(
            "sphere: viewpoint uniform on the sphere + roll; authors: 12 turns about y + a +-3.14 deg jitter, views of a model share its cloud",
            VIEWS,
        ),
    )
    burn_in: int = field(default=0, metadata=_f("chaos-game steps dropped first"))
    bound: float = field(default=DEFAULT_BOUND, metadata=_f("divergence bound on |coordinate|"))
    threshold: float = field(
        default=DEFAULT_VARIANCE_THRESHOLD, metadata=_f("variance threshold of the category search (when no category file)")
    )

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
        if self.views not in VIEWS:
            raise ValueError(f"views must be one of {', '.join(VIEWS)}, got {self.views!r}")
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
        # the authors' released renderer: 12 views about y, 10k points, their threshold 0.05
        "exfractaldb-1k-authors": {"categories": 1000, "per_category": 1000, "views": "authors", "n_points": 10_000, "threshold": 0.05},
    }

    def make_classes(self, count, seed, settings, executor=None, progress=None) -> ClassSet:
        """Search ``count`` 3D categories (PC-FractalDB's search at ``settings.threshold``)."""
        s = SearchSettings(threshold=settings.threshold).validate()
        tick = None if progress is None else (lambda n, res: progress(n))
        res = search_categories(count, seed, s, executor=executor, progress=tick)
        origin = [{"block": c.block, "offset": c.offset, "variances": [float(v) for v in c.variances]} for c in res.categories]
        info = {
            "source": "search",
            "tried": res.tried,
            "diverged": res.diverged,
            "acceptance_rate": res.acceptance_rate,
            "threshold": s.threshold,
        }
        return ClassSet(self.name, [c.params for c in res.categories], seed, settings_dict(settings), origin, info)

    def classes_from_categories(self, cats: CategorySet, settings) -> ClassSet:
        """Use a category file's systems (from ``build_pcfractal.py categories``)."""
        origin = [dict(o) for o in cats.origin] if cats.origin else [{} for _ in cats.systems]
        info = {"source": "category file", "category_seed": cats.seed, "category_settings": cats.settings}
        return ClassSet(
            self.name, [np.asarray(s, dtype=np.float64) for s in cats.systems], cats.seed, settings_dict(settings), origin, info
        )

    def classes_from_path(self, path, count, settings) -> ClassSet:
        """A category folder or file from ``build_pcfractal.py categories``; the first
        ``count`` categories (None: all). ValueError when it has fewer."""
        from pathlib import Path

        path = Path(path)
        cats = CategorySet.load(path / CATEGORY_FILE if path.is_dir() else path)
        classes = self.classes_from_categories(cats, settings)
        if count is not None:
            if not 0 < count <= len(classes):
                raise ValueError(f"--categories {path}: {len(classes)} categories, {count} asked for")
            classes.params, classes.origin = classes.params[:count], classes.origin[:count]
        return classes

    # -- views ----------------------------------------------------------------------------
    def camera(self, category, index, seed, settings) -> raster.Camera:
        """The camera of image ``index`` (what ``render`` uses)."""
        s = settings
        rng = keys.generator(seed, self.name, category, index)
        if s.views == "sphere":
            return raster.random_camera(rng, s.distance, s.fov_deg, s.size)
        return raster.authors_view_camera(authors_yaw(index % AUTHORS_VIEWS, rng.random()), s.distance, s.fov_deg, s.size)

    def cloud(self, params, category, index, seed, settings, out=None, table=None):
        """(ok, points (n, 3), scale, shift) of image ``index``: its fluctuated chaos game
        and the normalisation affine (points * scale + shift is the normalised cloud). In
        ``authors`` views the stream is the model's, ``keys.generator(seed,
        "exfractaldb-model", c, index // 12)``; in ``sphere`` views the image's, after
        its camera draws."""
        s = settings
        if s.views == "sphere":
            rng = keys.generator(seed, self.name, category, index)
            raster.random_camera(rng, s.distance, s.fov_deg, s.size)  # the camera's draws come first
        else:
            rng = keys.generator(seed, "exfractaldb-model", category, index // AUTHORS_VIEWS)
        return self._cloud_from(rng, params, category, index, s, out, table)

    def _cloud_from(self, rng, params, category, index, s, out=None, table=None, buffer=None):
        """``cloud`` from its stream ``rng`` (positioned after the camera draws in sphere
        views). Without burn-in the orbit and its normalisation come from one kernel pass
        (``_kernels.orbit_with_stats``: the same numbers as ``chaos_game`` and
        ``raster.normalization_affine``)."""
        table = ifs.weight_table(s.weight_rows, 12) if table is None else table
        row = index % len(table) if s.views == "sphere" else (index // AUTHORS_VIEWS) % len(table)
        for attempt in range(MAX_ATTEMPTS):
            system = ifs.fluctuate(params, table[row])
            if s.burn_in == 0:
                pts, stats = _kernels.orbit_with_stats(system, s.n_points, rng, bound=s.bound, out=out, buffer=buffer)
                if pts is not None:
                    ok, scale, shift = _kernels.normalization_from_stats(stats, s.n_points, 3)
                    if ok:
                        return pts, scale, shift
            else:
                pts = chaos_game(system, s.n_points, rng, burn_in=s.burn_in, bound=s.bound, out=out)
                if pts is not None:
                    ok, scale, shift = raster.normalization_affine(pts)
                    if ok:
                        return pts, scale, shift
            row = int(rng.integers(len(table)))
        raise RuntimeError(f"{self.name} category {category}, image {index}: {MAX_ATTEMPTS} fluctuated systems diverged")

    def render(self, params, category, index, seed, settings, out=None, image=None, table=None, cloud=None) -> np.ndarray:
        """Image ``index`` of ``category``: (size, size) uint8, white dots on black."""
        s = settings
        camera = self.camera(category, index, seed, s)
        pts, scale, shift = self.cloud(params, category, index, seed, s, out, table) if cloud is None else cloud
        if image is None:
            image = np.zeros((s.size, s.size), dtype=np.uint8)
        else:
            image[:] = 0
        raster.splat_perspective(pts, camera, image, 255, scale, shift)
        return image

    def render_many(self, params, category, indices, seed, settings):
        s = settings
        table = ifs.weight_table(s.weight_rows, 12)
        out = np.empty((s.n_points, 3))
        buffer = np.empty(_kernels.DRAW_CHUNK)
        image = np.zeros((s.size, s.size), dtype=np.uint8)
        model, cloud = None, None
        for i in indices:
            if s.views == "authors":
                if i // AUTHORS_VIEWS != model:  # the views of a model share its cloud
                    model = i // AUTHORS_VIEWS
                    cloud = self._cloud_from(
                        keys.generator(seed, "exfractaldb-model", category, model), params, category, i, s, out, table, buffer
                    )
                yield i, self.render(params, category, i, seed, s, image=image, cloud=cloud)
            else:
                # one stream per image: its camera draws, then its cloud (as camera() + cloud())
                rng = keys.generator(seed, self.name, category, i)
                camera = raster.random_camera(rng, s.distance, s.fov_deg, s.size)
                pts, scale, shift = self._cloud_from(rng, params, category, i, s, out, table, buffer)
                image[:] = 0
                raster.splat_perspective(pts, camera, image, 255, scale, shift)
                yield i, image
