"""RCDB: radial contour images, as the authors' rcdb_render/make_rcdb.py draws them
(PCFRACTALDB.md sec. 4 and 5). Lengths are PIXELS of a 512 px image; other sizes scale
every length by size / 512 (lines stay 1 px).

Category ``c`` (``keys.generator(seed, "rcdb-category", c)``): vertices V = int(Exp(mean
100)), redrawn until 3 <= V <= 200 (not clipped); contours K = randint(1, 200); noise
coefficient c ~ U(0, 4); line width w ~ U(0, 0.1) px; and the first image's start radius
r0 = randint(0, 100), oval rates ox, oy ~ U(1, 2) and centre (512 + randint(-400, 400)) / 2
per axis. params = [V, K, c, w, r0, ox, oy, cx, cy].

Image ``i`` (``keys.generator(seed, "rcdb", c, i)``): image 0 keeps the category's r0, ox,
oy and centre, image i > 0 redraws them (as the authors do after each image). Vertex v
starts at (cos(2 pi v / V) r0 ox, sin(2 pi v / V) r0 oy). Per contour: a gray g =
randint(0, 256) (256 is drawn as 255) and, for EVERY vertex, two fresh noise values nx =
pnoise1(U(0, 10000)) 2c - c and ny likewise; then x_v -= cos(angle_v) (nx - w), y_v -=
sin(angle_v) (ny - w), accumulating over contours; the closed polygon is drawn with
1-pixel lines of gray g on white, in image coordinates (column cx + x, row cy + y).

pnoise1 is one octave of the ``noise`` package's 1D Perlin noise (gradient g = 1..8 from
bits 0-2 of the lattice hash, or -1 when bit 3 is set; quintic fade; times 0.4; values in
about [-0.95, 0.95], sd 0.31) evaluated, like the authors, at a float32 point uniform in
[0, 10000). Our own code: the lattice hash is a fixed permutation of 0..255 drawn once
from ``keys.generator(0, "rcdb-perlin-permutation")`` (the package's table is another
permutation; at uniform random points the value distribution is the same). Why not the
package: it ships no wheels for current Pythons and is unmaintained.

The authors seed ``random`` with the thread index, so their output depends on the thread
count; ours depends only on (seed, category, image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from pcfractal.core import keys, raster

from ._base import ClassSet, ImageGenerator, settings_dict
from ._registry import register

REFERENCE_SIZE = 512.0  # the authors' lengths are pixels of a 512 px image
NOISE_SPAN = 10000.0  # pnoise1 is evaluated at U(0, NOISE_SPAN)
PERM = keys.generator(0, "rcdb-perlin-permutation").permutation(256).astype(np.int64)


def _f(help: str, choices=None):
    return {"help": help, "choices": choices}


@dataclass(frozen=True)
class RCDBSettings:
    """Defaults: the authors' RCDB_render.sh (512 px; lengths in pixels of 512 px)."""

    size: int = field(default=512, metadata=_f("image side, pixels; lengths below are pixels of 512 px and scale with it"))
    vertices_mean: float = field(default=100.0, metadata=_f("mean of the exponential vertex count"))
    vertices_min: int = field(default=3, metadata=_f("fewest vertices (a draw below is redrawn)"))
    vertices_max: int = field(default=200, metadata=_f("most vertices (a draw above is redrawn)"))
    contours_max: int = field(default=200, metadata=_f("contours K = randint(1, contours_max)"))
    noise_max: float = field(default=4.0, metadata=_f("Perlin coefficient c ~ U(0, noise_max), pixels"))
    line_width_max: float = field(default=0.1, metadata=_f("line width w ~ U(0, line_width_max), PIXELS: the radial drift per contour"))
    radius_max: int = field(default=100, metadata=_f("start radius r0 = randint(0, radius_max), pixels"))
    oval_min: float = field(default=1.0, metadata=_f("oval rates ox, oy ~ U(oval_min, oval_max)"))
    oval_max: float = field(default=2.0, metadata=_f("oval rates ox, oy ~ U(oval_min, oval_max)"))
    start_pos: int = field(default=400, metadata=_f("centre = (512 + randint(-start_pos, start_pos)) / 2 per axis, pixels"))

    def validate(self) -> "RCDBSettings":
        if self.size <= 0:
            raise ValueError(f"image size must be positive, got {self.size}")
        if not 3 <= self.vertices_min <= self.vertices_max:
            raise ValueError(f"vertex range must satisfy 3 <= vertices_min <= vertices_max, got {self.vertices_min}..{self.vertices_max}")
        if self.contours_max < 1 or self.radius_max < 0 or self.start_pos < 0:
            raise ValueError("contours_max must be >= 1, radius_max and start_pos >= 0")
        if not (self.vertices_mean > 0 and self.noise_max >= 0 and self.line_width_max >= 0):
            raise ValueError("vertices_mean must be > 0; noise_max and line_width_max >= 0")
        if not 0 < self.oval_min <= self.oval_max:
            raise ValueError(f"oval rates must satisfy 0 < oval_min <= oval_max, got {self.oval_min}..{self.oval_max}")
        # the redraw loop must be able to end: P(vertices_min <= int(Exp) <= vertices_max) > 1e-6
        if np.exp(-self.vertices_min / self.vertices_mean) - np.exp(-(self.vertices_max + 1) / self.vertices_mean) < 1e-6:
            raise ValueError("vertices_mean is too far from vertices_min..vertices_max for the vertex count to be drawn")
        return self


@njit(cache=True, nogil=True)
def pnoise1(u, perm):
    """One octave of 1D Perlin noise at each point of ``u`` (any shape, float64), the
    ``noise`` package's rule: lattice i = floor(x) mod 1024, hash perm[i & 255], gradient
    (hash & 7) + 1 or -1 when hash & 8, quintic fade, times 0.4. Points are rounded to
    float32 first (the package takes a C float)."""
    flat = u.ravel()
    out = np.empty(flat.shape[0])
    for j in range(flat.shape[0]):
        x = float(np.float32(flat[j]))
        fl = np.floor(x)
        i = int(fl) % 1024
        ii = (i + 1) % 1024
        h0 = perm[i & 255]
        h1 = perm[ii & 255]
        t = x - fl
        g0 = -1.0 if h0 & 8 else float((h0 & 7) + 1)
        g1 = -1.0 if h1 & 8 else float((h1 & 7) + 1)
        fade = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
        a = g0 * t
        out[j] = (a + fade * (g1 * (t - 1.0) - a)) * 0.4
    return out.reshape(u.shape)


def draw_vertex_count(rng: np.random.Generator, s: RCDBSettings) -> int:
    """V = int(Exp(mean)), redrawn until vertices_min <= V <= vertices_max."""
    while True:
        v = int(rng.exponential(s.vertices_mean))
        if s.vertices_min <= v <= s.vertices_max:
            return v


def draw_placement(rng: np.random.Generator, s: RCDBSettings) -> list[float]:
    """[r0, ox, oy, cx, cy] in 512 px units: radius, oval rates, centre."""
    r0 = float(rng.integers(0, s.radius_max + 1))
    ox, oy = rng.uniform(s.oval_min, s.oval_max, 2)
    cx = (REFERENCE_SIZE + int(rng.integers(-s.start_pos, s.start_pos + 1))) / 2.0
    cy = (REFERENCE_SIZE + int(rng.integers(-s.start_pos, s.start_pos + 1))) / 2.0
    return [r0, float(ox), float(oy), cx, cy]


@register
class RCDB(ImageGenerator):
    name = "rcdb"
    Settings = RCDBSettings
    description = "radial contours: per-vertex Perlin random walks from an ellipse, gray on white (the authors' code)"
    presets = {
        "tiny": {"categories": 4, "per_category": 8},
        "rcdb-1k": {"categories": 1000, "per_category": 1000},
    }

    def make_classes(self, count, seed, settings, executor=None, progress=None) -> ClassSet:
        """Draw ``count`` categories: params = [V, K, c, w, r0, ox, oy, cx, cy] (no search)."""
        if count <= 0:
            raise ValueError(f"category count must be positive, got {count}")
        s = settings
        params = []
        for c in range(count):
            rng = keys.generator(seed, "rcdb-category", c)
            v = draw_vertex_count(rng, s)
            k = 1 + int(rng.integers(s.contours_max))
            coef = rng.uniform(0.0, s.noise_max)
            width = rng.uniform(0.0, s.line_width_max)
            params.append(np.array([v, k, coef, width, *draw_placement(rng, s)], dtype=np.float64))
        if progress is not None:
            progress(count)
        return ClassSet(self.name, params, seed, settings_dict(s), [{} for _ in params], {"source": "drawn"})

    def contours(self, params, category, index, seed, settings):
        """The image's contours: (xs, ys) (K, V) float64 pixel coordinates (column, row)
        and grays (K,) uint8."""
        s = settings
        if len(params) != 9:
            raise ValueError(f"an RCDB category has 9 parameters [V, K, c, w, r0, ox, oy, cx, cy], got {len(params)}")
        v, k, coef, width = int(params[0]), int(params[1]), float(params[2]), float(params[3])
        rng = keys.generator(seed, self.name, category, index)
        r0, ox, oy, cx, cy = (float(x) for x in params[4:9]) if index == 0 else draw_placement(rng, s)
        grays = np.minimum(rng.integers(0, 257, k), 255).astype(np.uint8)
        n = pnoise1(rng.uniform(0.0, NOISE_SPAN, (2, k, v)), PERM) * (2.0 * coef) - coef
        theta = np.arange(v) * (2.0 * np.pi / v)
        unit = s.size / REFERENCE_SIZE
        # x_v(k) = cos(theta) (r0 ox - sum_{j<=k} (nx_j - w)), likewise y
        rx = r0 * ox - np.cumsum(n[0] - width, axis=0)
        ry = r0 * oy - np.cumsum(n[1] - width, axis=0)
        xs = (cx + np.cos(theta) * rx) * unit
        ys = (cy + np.sin(theta) * ry) * unit
        return xs, ys, grays

    def render(self, params, category, index, seed, settings, image=None) -> np.ndarray:
        """Image ``index`` of ``category``: (size, size) uint8, gray contours on white."""
        s = settings
        xs, ys, grays = self.contours(params, category, index, seed, s)
        if image is None:
            image = np.empty((s.size, s.size), dtype=np.uint8)
        image[:] = 255
        raster.draw_polylines(image, xs, ys, grays, True)
        return image

    def render_many(self, params, category, indices, seed, settings):
        image = np.empty((settings.size, settings.size), dtype=np.uint8)
        for i in indices:
            yield i, self.render(params, category, i, seed, settings, image=image)
