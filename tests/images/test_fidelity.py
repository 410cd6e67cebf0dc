"""Fidelity to the authors' released code (PCFRACTALDB.md sec. 5): each generator against
an independent reference written HERE from the procedure (not by calling pcfractal),
compared on statistics that tell the variants apart.

Measured when written (RCDB V=100, K=100, c=2, w=0.05 px, r0=50, ox=oy=1.5, centre 256,
512 px, 6 images): ours ink 0.403, growth 2.05 px/contour, 0.77 of the contours inside
the frame; the reference 0.412, 2.05, 0.79. The old RCDB (line width as a fraction of the
image, one noise curve per category) inked ~0.02 and grew ~26 px per contour.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pcfractal.images import get_generator

# ------------------------------------------------------------------------------- RCDB


def ref_pnoise1(x, perm):
    """The noise package's pnoise1, one octave, in its C float (float32) arithmetic:
    lattice floor(x) mod 1024, gradient (h & 7) + 1 or -1 when h & 8, quintic fade, lerp,
    times 0.4f."""
    f32 = np.float32
    x = np.asarray(x).astype(f32)
    i = np.floor(x).astype(np.int64) % 1024
    h0, h1 = perm[i & 255], perm[((i + 1) % 1024) & 255]
    t = (x - np.floor(x)).astype(f32)
    g0 = np.where(h0 & 8, f32(-1), (h0 & 7) + f32(1)).astype(f32)
    g1 = np.where(h1 & 8, f32(-1), (h1 & 7) + f32(1)).astype(f32)
    fade = t * t * t * (t * (t * f32(6) - f32(15)) + f32(10))
    a, b = g0 * t, g1 * (t - f32(1))
    return ((a + fade * (b - a)) * f32(0.4)).astype(np.float64)


def test_pnoise1_is_the_packages_noise():
    from pcfractal.images import rcdb

    u = np.random.default_rng(3).uniform(0.0, 10000.0, 20000)
    ours, ref = rcdb.pnoise1(u, rcdb.PERM), ref_pnoise1(u, rcdb.PERM)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=4e-6)  # float32 rounding of values up to 8
    assert abs(ref.std() - 0.31) < 0.02 and np.abs(ref).max() < 1.0


def ref_rcdb(rng, V, K, c, w, r0, ox, oy, cx, cy, size=512):
    """make_rcdb.py's inner loops for one image: contours (K, V+1) and the PIL image."""
    perm = np.random.default_rng(12345).permutation(256)
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    ang = 2 * math.pi / V
    vx = [math.cos(ang * v) * r0 * ox for v in range(V)]
    vy = [math.sin(ang * v) * r0 * oy for v in range(V)]
    xs, ys = [], []
    for _ in range(K):
        g = int(rng.integers(0, 257))
        nx = ref_pnoise1(rng.uniform(0, 10000, V), perm) * c * 2 - c
        ny = ref_pnoise1(rng.uniform(0, 10000, V), perm) * c * 2 - c
        for v in range(V):
            vx[v] -= math.cos(ang * v) * (nx[v] - w)
            vy[v] -= math.sin(ang * v) * (ny[v] - w)
        pts = [(vx[v] + cx, vy[v] + cy) for v in range(V)] + [(vx[0] + cx, vy[0] + cy)]
        draw.line(pts, fill=min(g, 255), width=1)
        xs.append([p[0] for p in pts[:-1]])
        ys.append([p[1] for p in pts[:-1]])
    return np.array(xs), np.array(ys), np.asarray(im)


def test_rcdb_contours_equal_the_numpy_formula():
    """RCDB.contours (one fused kernel) = the module docstring's formula in numpy (with the
    module's pnoise1, checked against the package's rule above): draws
    [placement,] grays, then U(0, 10000) (2, K, V); n = pnoise1 2c - c; x = (cx +
    cos(theta) (r0 ox - cumsum_k(nx - w))) size / 512, likewise y; bit for bit."""
    from pcfractal.core import keys
    from pcfractal.images import rcdb

    gen = get_generator("rcdb")
    s = gen.settings(size=300)
    for c, params in enumerate(gen.make_classes(4, 9, s).params):
        for i in (0, 3):
            xs, ys, grays = gen.contours(params, c, i, 9, s)
            V, K, coef, w = int(params[0]), int(params[1]), params[2], params[3]
            rng = keys.generator(9, "rcdb", c, i)
            r0, ox, oy, cx, cy = params[4:9] if i == 0 else rcdb.draw_placement(rng, s)
            g = np.minimum(rng.integers(0, 257, K), 255)
            n = rcdb.pnoise1(rng.uniform(0.0, 10000.0, (2, K, V)), rcdb.PERM) * (2.0 * coef) - coef
            theta = np.arange(V) * (2.0 * np.pi / V)
            want_x = (cx + np.cos(theta) * (r0 * ox - np.cumsum(n[0] - w, axis=0))) * (300 / 512)
            want_y = (cy + np.sin(theta) * (r0 * oy - np.cumsum(n[1] - w, axis=0))) * (300 / 512)
            np.testing.assert_array_equal(xs, want_x)
            np.testing.assert_array_equal(ys, want_y)
            np.testing.assert_array_equal(grays, g)


def rcdb_stats(xs, ys, img, cx, cy, size=512):
    r = np.hypot(xs - cx, ys - cy).mean(axis=1)
    inside = ((xs >= 0) & (xs < size) & (ys >= 0) & (ys < size)).all(axis=1)
    return {"ink": float((img != 255).mean()), "growth": float((r[-1] - r[0]) / (len(r) - 1)), "inside": float(inside.mean())}


CAT = dict(V=100, K=100, c=2.0, w=0.05, r0=50.0, ox=1.5, oy=1.5, cx=256.0, cy=256.0)


@pytest.fixture(scope="module")
def rcdb_pair():
    gen = get_generator("rcdb")
    s = gen.settings()
    params = np.array([CAT[k] for k in ("V", "K", "c", "w", "r0", "ox", "oy", "cx", "cy")])
    ours, ref = [], []
    rng = np.random.default_rng(0)
    for seed in range(6):
        xs, ys, _ = gen.contours(params, 0, 0, seed, s)
        ours.append(rcdb_stats(xs, ys, gen.render(params, 0, 0, seed, s), CAT["cx"], CAT["cy"]))
        xr, yr, imr = ref_rcdb(rng, **CAT)
        ref.append(rcdb_stats(xr, yr, imr, CAT["cx"], CAT["cy"]))
    mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    return {k: (mean(ours, k), mean(ref, k)) for k in ("ink", "growth", "inside")}


def test_rcdb_ink_fraction_matches_the_authors(rcdb_pair):
    ours, ref = rcdb_pair["ink"]
    assert 0.2 < ref < 0.6  # the procedure inks a large part of the image (~0.4 here)
    assert abs(ours - ref) < 0.2 * ref, rcdb_pair


def test_rcdb_growth_per_contour_and_frame_share_match(rcdb_pair):
    (g_ours, g_ref), (in_ours, in_ref) = rcdb_pair["growth"], rcdb_pair["inside"]
    assert 1.0 < g_ref < 4.0  # ~2 px per contour (a jagged random walk), not tens of pixels
    assert abs(g_ours - g_ref) < 0.25, rcdb_pair
    assert abs(in_ours - in_ref) < 0.1 and in_ref > 0.5, rcdb_pair


def test_rcdb_shapes_vary_per_image_and_placement_is_redrawn():
    gen = get_generator("rcdb")
    s = gen.settings()
    classes = gen.make_classes(3, 0, s)
    p = classes.params[0]
    theta = 2 * np.pi * np.arange(int(p[0])) / int(p[0])
    sel = np.abs(np.cos(theta)) > 0.3
    disp = []
    for i in range(4):  # each vertex's radial random walk along x, first to last contour
        xs, ys, _ = gen.contours(p, 0, i, 0, s)
        disp.append((xs[-1] - xs[0])[sel] / np.cos(theta[sel]))
    corr = [abs(np.corrcoef(disp[a], disp[b])[0, 1]) for a in range(4) for b in range(a + 1, 4)]
    assert np.mean(corr) < 0.4  # fresh noise per image: contours of one class are not alike
    # image 0 keeps the category's ellipse and centre, later images redraw them
    xs0, ys0, _ = gen.contours(p, 0, 0, 0, s)
    V = int(p[0])
    assert xs0.shape[1] == V and 3 <= V <= 200
    starts = set()
    for i in range(1, 6):
        xs, ys, _ = gen.contours(p, 0, i, 0, s)
        starts.add(round(float(xs[0].mean()), 3))
    assert len(starts) == 5


def test_rcdb_vertex_count_is_redrawn_not_clipped():
    gen = get_generator("rcdb")
    classes = gen.make_classes(400, 1, gen.settings())
    v = np.array([p[0] for p in classes.params])
    assert v.min() >= 3 and v.max() <= 200
    assert np.mean(v == 200) < 0.02  # clipping would put ~13.5% at exactly 200
    assert abs(np.mean(v) - 70.0) < 10  # E[int(Exp(100)) | 3..200] ~ 70 (redrawn)
    w = np.array([p[3] for p in classes.params])
    assert w.max() <= 0.1  # line width in pixels


# ---------------------------------------------------------------------------- FractalDB

SYSTEM = np.array([[0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.4], [0.5, 0.0, 0.0, 0.5, 0.5, 0.0, 0.3], [0.45, 0.1, -0.1, 0.45, 0.2, 0.5, 0.3]])


def ref_orbit(system, n, rng):
    """ifs_function.calculate: the origin first, then n - 1 steps picked by cumulative p."""
    cum = np.cumsum(system[:, 6])
    u = rng.random(n)
    xs, ys = [0.0], [0.0]
    x = y = 0.0
    for i in range(n - 1):
        j = int(np.searchsorted(cum, u[i]))
        a, b, c, d, e, f, _ = system[min(j, len(system) - 1)]
        x, y = a * x + b * y + e, c * x + d * y + f
        xs.append(x)
        ys.append(y)
    return np.array(xs), np.array(ys)


def ref_rescale(xs, ys, size, pad):
    if xs.min() < 0:
        xs = xs - xs.min()
    if ys.min() < 0:
        ys = ys - ys.min()
    return (xs / (xs.max() - xs.min()) * (size - 2 * pad) + pad).astype(np.uint16), (
        ys / (ys.max() - ys.min()) * (size - 2 * pad) + pad
    ).astype(np.uint16)


def ref_draw_patch(px, py, size, rng, mode):
    """draw_patch: paste a 3x3 patch of 127 at (x + 1, y + 1) (zeros included), then flip
    top-bottom. mode "random": a new pattern per point; "union": OR instead of paste."""
    img = np.zeros((size + 4, size + 4), np.uint8)
    for x, y in zip(px.tolist(), py.tolist()):
        bits = np.array([int(ch) for ch in "{:09b}".format(int(rng.integers(1, 512)))]).reshape(3, 3)
        if mode == "union":
            img[y + 1 : y + 4, x + 1 : x + 4] |= (bits * 127).astype(np.uint8)
        else:
            img[y + 1 : y + 4, x + 1 : x + 4] = bits * 127
    return img[:size, :size][::-1]


@pytest.fixture(scope="module")
def fractaldb_ref():
    size, pad, n = 96, 6, 6000
    xs, ys = ref_orbit(SYSTEM, n, np.random.default_rng(3))
    px, py = ref_rescale(xs, ys, size, pad)
    paste = ref_draw_patch(px, py, size, np.random.default_rng(4), "random")
    union = ref_draw_patch(px, py, size, np.random.default_rng(4), "union")
    points = np.zeros((size, size), np.uint8)
    points[py, px] = 127
    return {"paste": paste, "union": union, "point": points[::-1], "size": size, "n": n}


def test_fractaldb_default_is_the_release_paste_in_gray_127(fractaldb_ref):
    gen = get_generator("fractaldb")
    s = gen.settings(size=fractaldb_ref["size"], n_points=fractaldb_ref["n"])
    assert (s.render, s.color, s.pad, s.weight_step, s.filling_rate) == ("patch-random", "gray", 6, 0.4, 0.2)
    img = gen.render(SYSTEM, 0, 0, 5, s)  # image 0: identity row, flip 0
    fill = lambda a: float((a != 0).mean())  # noqa: E731
    ref_paste, ref_union = fill(fractaldb_ref["paste"]), fill(fractaldb_ref["union"])
    assert ref_union - ref_paste > 0.05  # the paste blanks ink: the two semantics differ
    assert abs(fill(img) - ref_paste) < 0.3 * (ref_union - ref_paste), (fill(img), ref_paste, ref_union)
    assert set(np.unique(img).tolist()) == {0, 127}


def test_fractaldb_point_mode_and_search_geometry(fractaldb_ref):
    gen = get_generator("fractaldb")
    s = gen.settings(size=fractaldb_ref["size"], n_points=fractaldb_ref["n"], render="point")
    img = gen.render(SYSTEM, 0, 0, 5, s)
    ref = fractaldb_ref["point"]
    # the same attractor, stretched per axis with 6 px padding: same bounding box, same fill
    for a in (img, ref):
        assert a[:5].max() == 0 and a[:, :6].max() == 0 and a[-6:].max() == 0 and a[:, -5:].max() == 0  # [6, size - 6], flipped
    ri, ci = np.nonzero(img)
    rr, cr = np.nonzero(ref)
    assert (ri.min(), ri.max(), ci.min(), ci.max()) == (rr.min(), rr.max(), cr.min(), cr.max())
    assert abs((img != 0).mean() - (ref != 0).mean()) < 0.1 * (ref != 0).mean()


def test_fractaldb_patch_fixed_uses_one_pattern_per_image():
    gen = get_generator("fractaldb")
    s = gen.settings(size=64, n_points=4000, render="patch-fixed")
    img = gen.render(SYSTEM, 0, 0, 5, s)
    dots = gen.render(SYSTEM, 0, 0, 5, gen.settings(size=64, n_points=4000, render="point"))
    assert img.any() and not np.array_equal(img != 0, dots != 0)
    # every lit pixel of the point image is lit or blanked by the same 3x3 pattern: the
    # lit patterns around isolated points are equal
    s_rand = gen.settings(size=64, n_points=4000, render="patch-random")
    assert not np.array_equal(img, gen.render(SYSTEM, 0, 0, 5, s_rand))


def test_fractaldb_colour_cycle_is_the_authors():
    from pcfractal.core import raster

    def convert_color(color, n_div):  # restated from ifs_function.convert_color
        S = I = 0.75
        H = 2.0 * math.pi * (float(color % n_div) / float(n_div))
        h = math.floor((3.0 / math.pi) * H)
        P, Q, T = I * (1 - S), I * (1 - S * ((3 / math.pi) * H - h)), I * (1 - S * ((1 - (3 / math.pi) * H) + h))
        I8, P8, Q8, T8 = (int(np.uint8(v * 255.0)) for v in (I, P, Q, T))
        return [(P8, T8, I8), (P8, I8, Q8), (T8, I8, P8), (I8, Q8, P8), (I8, P8, T8), (Q8, P8, I8)][h]

    table = raster.authors_color_table(128)
    assert [tuple(int(v) for v in row) for row in table] == [convert_color(i, 128) for i in range(128)]


def test_fractaldb_reads_the_authors_category_csv(tmp_path):
    gen = get_generator("fractaldb")
    (tmp_path / "csv0").mkdir()
    (tmp_path / "csv1").mkdir()
    np.savetxt(tmp_path / "csv0" / "00000.csv", SYSTEM, delimiter=",")
    np.savetxt(tmp_path / "csv1" / "00001.csv", SYSTEM[1:], delimiter=",")
    s = gen.settings(size=48, n_points=3000)
    classes = gen.classes_from_path(tmp_path, None, s)
    assert len(classes) == 2 and classes.params[0].shape == (3, 7) and classes.params[1].shape == (2, 7)
    np.testing.assert_allclose(classes.params[0], SYSTEM)
    assert gen.render(classes.params[1], 1, 0, 0, s).any()
    assert len(gen.classes_from_path(tmp_path, 1, s)) == 1
    with pytest.raises(ValueError, match="2 category files, 3 asked for"):
        gen.classes_from_path(tmp_path, 3, s)
    (tmp_path / "csv1" / "00002.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="7 columns"):
        gen.classes_from_path(tmp_path, None, s)


# ------------------------------------------------------------- ExFractalDB, MV-FractalDB


def ref_gl_pixels(points, yaw_rad, size=224, fov=45.0, dist=4.0):
    """render.py's view: eye = -dist R_y(yaw) (1,0,0), glm.lookAt(eye, 0, up y),
    glm.perspective(fov), viewport, glReadPixels bottom row first -> (row, col) pixels."""
    d = np.array([math.cos(yaw_rad), 0.0, -math.sin(yaw_rad)])
    eye = -dist * d
    f = -eye / np.linalg.norm(eye)
    s_ = np.cross(f, [0.0, 1.0, 0.0])
    s_ /= np.linalg.norm(s_)
    u = np.cross(s_, f)
    rel = points - eye
    xc, yc, zc = rel @ s_, rel @ u, -(rel @ f)  # OpenGL eye space looks down -z
    t = math.tan(math.radians(fov) / 2)
    ndc_x, ndc_y = xc / (-zc * t), yc / (-zc * t)
    col = (ndc_x + 1) / 2 * size
    row_from_bottom = (ndc_y + 1) / 2 * size  # the first row read is the bottom one
    return np.floor(row_from_bottom).astype(int), np.floor(col).astype(int)


KNOWN = np.array([[0.01, 0.02, 0.03], [0.5, 0.2, -0.3], [-0.4, 0.6, 0.1], [0.3, -0.7, 0.5], [0.9, 0.9, 0.9]])


@pytest.mark.parametrize("kind", ["exfractaldb", "mvfractaldb"])
def test_authors_views_project_known_points_from_the_stated_angles(kind):
    from pcfractal.core import raster

    gen = get_generator(kind)
    s = gen.settings(views="authors") if kind == "exfractaldb" else gen.settings()
    for index in range(24):
        cam = gen.camera(0, index, 3, s)
        yaw = math.atan2(cam.eye[2] / 4.0, -cam.eye[0] / 4.0)
        base = 2 * math.pi * (index % 12) / 12 + math.radians(30)
        jitter = (yaw - base + math.pi) % (2 * math.pi) - math.pi
        assert abs(jitter) <= math.radians(math.pi) + 1e-12  # +-3.14 deg, the authors' radians(U(-pi, pi))
        rows, cols = ref_gl_pixels(KNOWN, yaw)
        pix, _ = raster.project(KNOWN, cam)
        np.testing.assert_array_equal(np.floor(pix[:, 1]).astype(int), rows)
        np.testing.assert_array_equal(np.floor(pix[:, 0]).astype(int), cols)
        assert abs(cam.eye[1]) < 1e-12  # zero elevation


def test_mvfractaldb_views_of_a_model_share_one_cloud():
    from pcfractal.core import raster

    gen = get_generator("mvfractaldb")
    s = gen.settings(size=64, n_points=3000, threshold=0.05)
    system = np.array(
        [
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, -0.5, 0.5, 0],
        ]
    )
    imgs = {i: im.copy() for i, im in gen.render_many(system, 0, range(24), 1, s)}
    pts, scale, shift = gen.cloud(system, 0, 13, 1, s)
    norm = pts * scale + shift
    for i in range(12, 24):  # model 1: every view is its cloud seen by the view's camera
        expect = raster.render_points(norm, gen.camera(0, i, 1, s))
        assert np.count_nonzero(expect != imgs[i]) <= 2
    assert not np.array_equal(imgs[0], imgs[12])


def test_sphere_views_leave_the_equator_authors_views_do_not():
    gen = get_generator("exfractaldb")
    sph = np.array([gen.camera(0, i, 0, gen.settings()).eye for i in range(200)]) / 4.0
    aut = np.array([gen.camera(0, i, 0, gen.settings(views="authors")).eye for i in range(200)]) / 4.0
    assert abs(np.std(sph[:, 1]) - 1 / math.sqrt(3)) < 0.08  # uniform on the sphere
    assert np.abs(aut[:, 1]).max() < 1e-12
