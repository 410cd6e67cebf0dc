"""A projected image IS the projection: lit pixels against plain numpy pinhole math.

The camera convention restated here (independently of pcfractal.core.raster): the camera at
``eye`` looks at the origin; reference up is +z (or +y when looking along z); right =
forward x up, up' = right x forward, then a roll about the view axis; a point at camera
coordinates (x, y, z) lands at column W/2 + f x / z, row H/2 - f y / z with
f = (W / 2) / tan(fov / 2), in pixel (floor(row), floor(column)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pcfractal.core import raster


def reference_pixels(points, eye, roll, fov_deg, size):
    """Set of (row, col) lit pixels, and the set of points within 1e-6 px of a border."""
    eye = np.array(eye, dtype=float)
    fwd = -eye / math.sqrt(float(eye @ eye))
    up0 = np.array([0.0, 0.0, 1.0]) if abs(fwd[2]) <= 0.999 else np.array([0.0, 1.0, 0.0])
    right = np.array([fwd[1] * up0[2] - fwd[2] * up0[1], fwd[2] * up0[0] - fwd[0] * up0[2], fwd[0] * up0[1] - fwd[1] * up0[0]])
    right /= math.sqrt(float(right @ right))
    up = np.array([right[1] * fwd[2] - right[2] * fwd[1], right[2] * fwd[0] - right[0] * fwd[2], right[0] * fwd[1] - right[1] * fwd[0]])
    r2 = math.cos(roll) * right + math.sin(roll) * up
    u2 = -math.sin(roll) * right + math.cos(roll) * up
    rel = points - eye
    x, y, z = rel @ r2, rel @ u2, rel @ fwd
    f = (size / 2) / math.tan(math.radians(fov_deg) / 2)
    col = size / 2 + f * x / z
    row = size / 2 - f * y / z
    inside = (z > 1e-3) & (col >= 0) & (row >= 0) & (col < size) & (row < size)
    lit = set(zip(np.floor(row[inside]).astype(int).tolist(), np.floor(col[inside]).astype(int).tolist()))
    frac = np.minimum(np.abs(col - np.round(col)), np.abs(row - np.round(row)))
    return lit, (frac < 1e-6) & inside


@pytest.mark.parametrize(
    "eye,roll,fov,size",
    [
        ((4.0, 0.0, 0.0), 0.0, 45.0, 224),
        ((1.0, -2.0, 3.0), 1.1, 45.0, 224),
        ((0.0, 0.0, 4.0), 2.5, 60.0, 97),
        ((-2.5, 2.5, -1.0), 4.0, 30.0, 128),
    ],
)
def test_lit_pixels_match_pinhole_math(eye, roll, fov, size):
    rng = np.random.default_rng(7)
    points = rng.uniform(-1.5, 1.5, (5000, 3))
    eye = np.array(eye) / np.linalg.norm(eye) * 4.0
    image = raster.render_points(points, raster.look_at(eye, roll=roll, fov_deg=fov, size=size))
    lit, near_edge = reference_pixels(points, eye, roll, fov, size)
    assert not near_edge.any(), "test points should stay off pixel borders"
    got = set(zip(*[a.tolist() for a in np.nonzero(image)]))
    assert got == lit
    assert len(lit) > 1000  # the view really shows the cloud


def test_known_points_land_on_known_pixels():
    # Camera on +x looking at the origin, no roll: right = -y... spelled out by hand:
    # forward (-1, 0, 0), up0 z, right = f x z = (0, 1, 0), up = right x f = (0, 0, 1).
    size, fov = 100, 90.0  # focal = 50 px
    cam = raster.look_at((4.0, 0.0, 0.0), roll=0.0, fov_deg=fov, size=size)
    pts = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5], [2.0, -0.9, 1.1], [5.0, 0.0, 0.0]])
    image = raster.render_points(pts, cam)
    # (0,0,0): depth 4 -> centre (50, 50); (0,.5,0): col 50 + 50*.5/4 = 56.25; (0,0,.5): row 43.75
    # (2,-.9,1.1): depth 2 -> col 50 - 22.5 = 27.5, row 50 - 27.5 = 22.5; (5,0,0) is behind.
    expected = {(50, 50), (50, 56), (43, 50), (22, 27)}
    assert set(zip(*[a.tolist() for a in np.nonzero(image)])) == expected


def test_normalised_splat_equals_normalise_then_project():
    from pcfractal.core.normalize import normalize_inplace

    pts = np.random.default_rng(1).normal(3.0, 5.0, (20000, 3))
    ok, scale, shift = raster.normalization_affine(pts)
    assert ok
    norm = pts.copy()
    assert normalize_inplace(norm)
    np.testing.assert_allclose(pts * scale + shift, norm, atol=1e-12)
    cam = raster.look_at((1.0, 2.0, 3.0), roll=0.4)
    a = np.zeros((224, 224), np.uint8)
    raster.splat_perspective(pts, cam, a, 255, scale, shift)
    b = raster.render_points(norm, cam)
    assert np.count_nonzero(a != b) <= 2  # equal up to rounding at pixel borders


def test_random_camera_is_seeded_and_on_the_sphere():
    cams = [raster.random_camera(np.random.default_rng(3)) for _ in range(2)]
    np.testing.assert_array_equal(cams[0].rotation, cams[1].rotation)
    assert abs(np.linalg.norm(cams[0].eye) - 4.0) < 1e-12
    np.testing.assert_allclose(cams[0].rotation @ cams[0].rotation.T, np.eye(3), atol=1e-12)
    # forward points at the origin
    np.testing.assert_allclose(cams[0].rotation[2], -cams[0].eye / 4.0, atol=1e-12)


def test_polyline_clipping_draws_only_inside():
    img = np.zeros((20, 20), np.uint8)
    xs = np.array([[-1000.0, 1000.0]])
    ys = np.array([[10.0, 10.0]])
    raster.draw_polylines(img, xs, ys, np.array([7], np.uint8), False)
    assert (img[10] == 7).all() and np.count_nonzero(img) == 20


@pytest.mark.parametrize("seed", range(3))
def test_polylines_fast_path_draws_what_clip_then_line_draws(seed):
    """Segments inside the image skip the clipping; the pixels must be those of clipping
    every segment to the image grown by one pixel, rounding half to even and drawing a
    checked Bresenham line (the plain rule, segment by segment, here in Python)."""
    rng = np.random.default_rng(seed)
    h, w = 31, 40
    xs = rng.uniform(-8, w + 8, (6, 25))
    ys = rng.uniform(-8, h + 8, (6, 25))
    xs[0] = rng.uniform(0, w - 1, 25)  # a line wholly inside, ends on exact .5 too
    ys[0] = np.round(rng.uniform(0, h - 1, 25)) + 0.5 * (seed == 0)
    values = rng.integers(1, 255, 6).astype(np.uint8)
    got = np.zeros((h, w), np.uint8)
    raster.draw_polylines(got, xs, ys, values, True)
    want = np.zeros((h, w), np.uint8)
    for k in range(6):
        for j in range(25):
            j2 = (j + 1) % 25
            ok, ax, ay, bx, by = raster._clip_segment(xs[k, j], ys[k, j], xs[k, j2], ys[k, j2], -1.0, -1.0, float(w), float(h))
            if ok:
                raster.draw_line(want, int(np.rint(ax)), int(np.rint(ay)), int(np.rint(bx)), int(np.rint(by)), values[k])
    np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(got[ys[0].astype(int).clip(0, h - 1), xs[0].astype(int)]) > 0


def _bresenham_reference(x0, y0, x1, y1):
    """The all-octant integer Bresenham line, as usually written: pixels until the end."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, x, y, out = dx + dy, x0, y0, []
    while True:
        out.append((y, x))
        if x == x1 and y == y1:
            return out
        e2 = 2 * err
        if e2 >= dy:
            err, x = err + dy, x + sx
        if e2 <= dx:
            err, y = err + dx, y + sy


def test_draw_line_is_bresenham_for_every_direction():
    """Every (dx, dy) with |dx|, |dy| <= 24 from a centre pixel, and lines leaving the image."""
    size, c = 64, 31
    for dx in range(-24, 25):
        for dy in range(-24, 25):
            img = np.zeros((size, size), np.uint8)
            raster.draw_line(img, c, c, c + dx, c + dy, 1)
            want = np.zeros_like(img)
            for r, col in _bresenham_reference(c, c, c + dx, c + dy):
                want[r, col] = 1
            np.testing.assert_array_equal(img, want, err_msg=f"dx={dx} dy={dy}")
    img = np.zeros((10, 10), np.uint8)
    raster.draw_line(img, -5, -3, 14, 12, 1)
    want = np.zeros_like(img)
    for r, col in _bresenham_reference(-5, -3, 14, 12):
        if 0 <= r < 10 and 0 <= col < 10:
            want[r, col] = 1
    np.testing.assert_array_equal(img, want)


def test_points_at_or_behind_the_eye_are_not_drawn():
    """Depth 0 (the eye's plane: a division by zero), behind the camera and just before
    ``near`` draw nothing; just past ``near`` draws."""
    cam = raster.look_at([0.0, 0.0, 5.0], fov_deg=90.0, size=20, near=0.5)  # looks down -z
    img = np.zeros((20, 20), np.uint8)
    on_plane = [[0.0, 0.0, 5.0], [1.0, 0.0, 5.0], [0.0, -1.0, 5.0]]  # depth exactly 0
    behind = [[0.0, 0.0, 6.0], [0.3, 0.2, 9.0]]
    short = [[0.0, 0.0, 4.6]]  # depth 0.4 < near
    assert raster.splat_perspective(np.array(on_plane + behind + short), cam, img) == 0 and not img.any()
    assert raster.splat_perspective(np.array([[0.0, 0.0, 4.4]]), cam, img) == 1 and img[10, 10] == 255
