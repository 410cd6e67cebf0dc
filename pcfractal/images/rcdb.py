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


def gradients(perm: np.ndarray) -> np.ndarray:
    """(256,) float64: the gradient of lattice hash ``perm[i]`` for i in 0..255: (hash & 7)
    + 1, or -1 when hash & 8. A lattice point's gradient is ``gradients(perm)[i & 255]``
    (1024 is a multiple of 256, so the package's ``mod 1024`` first changes nothing)."""
    perm = np.asarray(perm)
    return np.where(perm & 8, -1.0, (perm & 7) + 1.0)


_GRADIENTS = gradients(PERM)


@njit(cache=True, nogil=True, inline="always")
def _noise(u, grad):
    """pnoise1 at one point with the ``gradients`` table: no branch on the hash (a random
    hash bit defeats the branch predictor). Precision: the point, its cell and fraction t
    and t**3 are float32 (the package's C float), the rest float64; within 4e-6 of the
    package's all-float32 values (tests/images/test_fidelity.py)."""
    x = np.float32(u)
    fl = np.floor(x)
    i = int(fl)
    t = x - fl
    g0 = grad[i & 255]
    g1 = grad[(i + 1) & 255]
    fade = t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
    a = g0 * t
    return (a + fade * (g1 * (t - 1.0) - a)) * 0.4


@njit(cache=True, nogil=True, boundscheck=False)
def _pnoise1_flat(u, grad, out):
    for j in range(u.shape[0]):
        out[j] = _noise(u[j], grad)


def pnoise1(u, perm):
    """One octave of 1D Perlin noise at each point of ``u`` (any shape, float64), the
    ``noise`` package's rule: lattice i = floor(x) mod 1024, hash perm[i & 255], gradient
    (hash & 7) + 1 or -1 when hash & 8, quintic fade, times 0.4. Points are rounded to
    float32 first (the package takes a C float); see ``_noise`` for the precision."""
    u = np.ascontiguousarray(u, dtype=np.float64)
    out = np.empty(u.size)
    _pnoise1_flat(u.ravel(), gradients(perm), out)
    return out.reshape(u.shape)


@njit(cache=True, nogil=True, boundscheck=False)
def _contour_kernel(u, grad, coef, width, rx0, ry0, cx, cy, cos_t, sin_t, unit, xs, ys):
    """``RCDB.contours``' walk in one pass over the draws ``u`` (2, K, V): per contour k
    and vertex v, n = pnoise1(u) 2c - c and the radial offset sum_{j<=k} (n_j - w), the
    same operations in the same order as the numpy formula (cumulative sums in contour
    order), without its temporaries: 3x faster."""
    k_lines = u.shape[1]
    v = u.shape[2]
    two_c = 2.0 * coef
    ax = np.zeros(v)
    ay = np.zeros(v)
    for k in range(k_lines):
        for j in range(v):
            ax[j] += _noise(u[0, k, j], grad) * two_c - coef - width
            xs[k, j] = (cx + cos_t[j] * (rx0 - ax[j])) * unit
        for j in range(v):
            ay[j] += _noise(u[1, k, j], grad) * two_c - coef - width
            ys[k, j] = (cy + sin_t[j] * (ry0 - ay[j])) * unit


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
        u = rng.uniform(0.0, NOISE_SPAN, (2, k, v))
        theta = np.arange(v) * (2.0 * np.pi / v)
        # x_v(k) = (cx + cos(theta_v) (r0 ox - sum_{j<=k} (nx_vj - w))) unit, likewise y
        xs = np.empty((k, v))
        ys = np.empty((k, v))
        _contour_kernel(u, _GRADIENTS, coef, width, r0 * ox, r0 * oy, cx, cy, np.cos(theta), np.sin(theta), s.size / REFERENCE_SIZE, xs, ys)
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
