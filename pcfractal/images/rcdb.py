"""RCDB: radial contour images (PCFRACTALDB.md sec. 4).

Category ``c`` (from ``keys.generator(seed, "rcdb-category", c)``): vertices V =
int(Exp(mean 100)) kept in [3, 200]; contours K in {1..200}; noise coefficient c ~ U(0, 4);
line width w ~ U(0, 0.1); and its Perlin noise: K x ``noise_cells`` gradients from
``keys.generator(seed, "rcdb-noise", c)``, shared by all its images.
Image ``i`` (``keys.generator(seed, "rcdb", c, i)``): start radius in {0..100}, oval rates
(ox, oy) ~ U(1, 2), centre = image centre + U(-200, 200) per axis, one gray in {0..254} per
contour. Lengths are given for 512 px and scale with the image size.

Drawing: vertex j sits at angle 2 pi j / V on the ellipse of radius r (x = cx + r ox cos,
y = cy - r oy sin). Contour k moves every vertex radially by d = n * 2c - c - w, n the
contour's 1D Perlin noise at the vertex mapped to [0, 1], accumulating over contours. Our
reading of the spec, whose formula leaves sign and units open: the line width is a
fraction of the image size, and the move d points towards the centre, so contours grow
outwards by w on average and wobble by up to c: r_k = r_(k-1) - d. Each contour is a closed
1-pixel polygon (``raster.draw_polylines``) in its gray on white.

Perlin noise: our own vectorised numpy code (classic 1D gradient noise, quintic fade,
periodic around the contour so it closes). Why not a library: the usual one, ``noise``,
ships no wheels for current Pythons (it needs a C compiler and is unmaintained), and a
whole image needs only K x V noise values, a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcfractal.core import keys, raster
from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

REFERENCE_SIZE = 512.0  # the spec's lengths are for 512 px images


@dataclass(frozen=True)
class RCDBSettings:
    """Defaults: PCFRACTALDB.md sec. 4."""

    size: int = 512
    vertices_mean: float = 100.0
    vertices_min: int = 3
    vertices_max: int = 200
    contours_max: int = 200  # contours in {1..contours_max}
    noise_max: float = 4.0  # Perlin coefficient c ~ U(0, noise_max)
    line_width_max: float = 0.1  # w ~ U(0, line_width_max), a fraction of the image size
    radius_max: int = 100  # start radius in {0..radius_max} (512 px units)
    oval_min: float = 1.0
    oval_max: float = 2.0
    centre_jitter: float = 200.0  # +- pixels (512 px units)
    noise_cells: int = 8  # Perlin lattice cells around a contour

    def validate(self) -> "RCDBSettings":
        if self.size <= 0:
            raise ValueError(f"image size must be positive, got {self.size}")
        if not 1 <= self.vertices_min <= self.vertices_max or self.vertices_min < 3:
            raise ValueError(f"vertex range must satisfy 3 <= min <= max, got {self.vertices_min}..{self.vertices_max}")
        if self.contours_max < 1 or self.noise_cells < 1 or self.radius_max < 0:
            raise ValueError("contours_max and noise_cells must be >= 1, radius_max >= 0")
        if not (self.vertices_mean > 0 and self.noise_max >= 0 and self.line_width_max >= 0 and self.centre_jitter >= 0):
            raise ValueError("vertices_mean must be > 0; noise_max, line_width_max, centre_jitter >= 0")
        if not 0 < self.oval_min <= self.oval_max:
            raise ValueError(f"oval rates must satisfy 0 < min <= max, got {self.oval_min}..{self.oval_max}")
        return self


def perlin1d_periodic(gradients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Classic gradient noise, periodic: ``gradients`` (K, P) slopes at lattice points 0..P-1
    (point P is point 0), ``x`` (V,) positions in [0, P). Returns (K, V) values in
    [-0.5, 0.5]: n(x) = lerp(fade(t), g0 t, g1 (t - 1)), t = x - floor(x),
    fade(t) = 6t^5 - 15t^4 + 10t^3."""
    p = gradients.shape[1]
    i0 = np.floor(x).astype(np.int64)
    t = x - i0
    g0 = gradients[:, i0 % p]
    g1 = gradients[:, (i0 + 1) % p]
    fade = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
    a = g0 * t
    return a + fade * (g1 * (t - 1.0) - a)


@register
class RCDB(ImageGenerator):
    name = "rcdb"
    Settings = RCDBSettings
    description = "radial contours: Perlin-noised polygons growing outwards, gray on white"
    presets = {
        "tiny": {"categories": 4, "per_category": 8},
        "rcdb-1k": {"categories": 1000, "per_category": 1000},
    }

    def make_classes(self, count, seed, settings, executor=None, progress=None) -> ClassSet:
        """Draw ``count`` categories: params = [V, K, c, w] (no search needed)."""
        if count <= 0:
            raise ValueError(f"category count must be positive, got {count}")
        s = settings
        params = []
        for c in range(count):
            rng = keys.generator(seed, "rcdb-category", c)
            v = int(np.clip(int(rng.exponential(s.vertices_mean)), s.vertices_min, s.vertices_max))
            k = 1 + int(rng.integers(s.contours_max))
            coef = rng.uniform(0.0, s.noise_max)
            width = rng.uniform(0.0, s.line_width_max)
            params.append(np.array([v, k, coef, width], dtype=np.float64))
        if progress is not None:
            progress(count)
        origin = [{} for _ in params]
        return ClassSet(self.name, params, seed, settings_dict(s), origin, {"source": "drawn"})

    def noise(self, params, category, seed, s: RCDBSettings) -> np.ndarray:
        """(K, V) noise in [0, 1] of a category (shared by its images)."""
        v, k = int(params[0]), int(params[1])
        grads = keys.generator(seed, "rcdb-noise", category).uniform(-1.0, 1.0, (k, s.noise_cells))
        x = np.arange(v) * (s.noise_cells / v)
        return np.clip(perlin1d_periodic(grads, x) + 0.5, 0.0, 1.0)

    def render(self, params, category, index, seed, settings, noise=None, image=None) -> np.ndarray:
        s = settings
        v, k, coef, width = int(params[0]), int(params[1]), float(params[2]), float(params[3])
        unit = s.size / REFERENCE_SIZE
        noise = self.noise(params, category, seed, s) if noise is None else noise
        rng = keys.generator(seed, self.name, category, index)
        radius = float(rng.integers(s.radius_max + 1)) * unit
        ox, oy = rng.uniform(s.oval_min, s.oval_max, 2)
        jx, jy = rng.uniform(-s.centre_jitter, s.centre_jitter, 2) * unit
        grays = rng.integers(0, 255, k).astype(np.uint8)
        d = (noise * 2.0 * coef - coef) * unit - width * s.size  # (K, V) move of each contour
        r = radius - np.cumsum(d, axis=0)
        theta = np.arange(v) * (2.0 * np.pi / v)
        cx = s.size / 2.0 + jx
        cy = s.size / 2.0 + jy
        xs = cx + r * (ox * np.cos(theta))
        ys = cy - r * (oy * np.sin(theta))
        if image is None:
            image = np.empty((s.size, s.size), dtype=np.uint8)
        image[:] = 255
        raster.draw_polylines(image, xs, ys, grays, True)
        return image

    def render_many(self, params, category, indices, seed, settings):
        noise = self.noise(params, category, seed, settings)
        image = np.empty((settings.size, settings.size), dtype=np.uint8)
        for i in indices:
            yield i, self.render(params, category, i, seed, settings, noise=noise, image=image)
