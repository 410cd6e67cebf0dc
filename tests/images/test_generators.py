"""Every registered image generator: shape, dtype, determinism, batch = single rendering,
distinct images, PNG round trip. New generators get these tests for free."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pcfractal.images import encode, encode_gray, get_generator, list_generators

SMALL = {
    "exfractaldb": {"size": 48, "n_points": 4000, "threshold": 0.05},
    "mvfractaldb": {"size": 48, "n_points": 4000, "threshold": 0.05},
    "fractaldb": {"size": 48, "n_points": 4000, "filling_rate": 0.04, "search_points": 20000},
    "rcdb": {"size": 64},
}


@pytest.fixture(scope="module", params=list_generators())
def gen_and_classes(request):
    gen = get_generator(request.param)
    s = gen.settings("tiny", **SMALL[request.param])
    return gen, s, gen.make_classes(2, 3, s)


def test_registry_lists_the_four_kinds():
    assert list_generators() == ["exfractaldb", "fractaldb", "mvfractaldb", "rcdb"]
    with pytest.raises(ValueError, match="unknown image kind"):
        get_generator("nope")


def test_render_shape_dtype_and_determinism(gen_and_classes):
    gen, s, classes = gen_and_classes
    assert len(classes) == 2
    a = gen.render(classes.params[1], 1, 3, 3, s)
    b = gen.render(classes.params[1], 1, 3, 3, s)
    assert a.shape == (s.size, s.size) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert a.std() > 0


def test_render_many_equals_render(gen_and_classes):
    gen, s, classes = gen_and_classes
    many = {i: img.copy() for i, img in gen.render_many(classes.params[0], 0, range(6), 3, s)}
    for i in range(6):
        np.testing.assert_array_equal(many[i], gen.render(classes.params[0], 0, i, 3, s))
    assert len({many[i].tobytes() for i in range(6)}) == 6  # every image differs


def test_other_seed_other_images(gen_and_classes):
    gen, s, classes = gen_and_classes
    assert not np.array_equal(gen.render(classes.params[0], 0, 1, 3, s), gen.render(classes.params[0], 0, 1, 4, s))


def test_png_round_trip_and_levels(gen_and_classes):
    gen, s, classes = gen_and_classes
    img = gen.render(classes.params[0], 0, 0, 3, s)
    for encoder, level in (("isal", 0), ("isal", 1), ("isal", 3), ("zlib", 0), ("zlib", 1), ("zlib", 6), ("zlib", 9)):
        data = encode_gray(img, level, encoder=encoder)
        with Image.open(io.BytesIO(data)) as im:  # Pillow decodes both deflate streams
            assert im.mode == "L"
            np.testing.assert_array_equal(np.asarray(im), img)
        assert encode_gray(img, level, encoder=encoder) == data
    with pytest.raises(ValueError, match="0..3 for the isal encoder"):
        encode_gray(img, 6, encoder="isal")


def test_settings_reject_bad_values():
    for kind in list_generators():
        gen = get_generator(kind)
        with pytest.raises(ValueError, match="image size must be positive"):
            gen.settings("tiny", size=0)
        with pytest.raises(ValueError, match="unknown preset"):
            gen.settings("huge")
    with pytest.raises(ValueError, match="points per image must be positive"):
        get_generator("exfractaldb").settings(n_points=0)
    with pytest.raises(ValueError, match="has no setting"):
        get_generator("rcdb").settings(n_points=5)


def test_every_settings_field_has_help_and_choices_metadata():
    import dataclasses

    from pcfractal.pointclouds.instances import InstanceSettings

    for cls in [get_generator(k).Settings for k in list_generators()] + [InstanceSettings]:
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
            assert "choices" in f.metadata
            if f.metadata["choices"] is not None:
                assert f.default in f.metadata["choices"], f"{cls.__name__}.{f.name}"


def test_image_names():
    assert get_generator("rcdb").image_name(3, 7) == "00003_00007.png"
    assert get_generator("mvfractaldb").image_name(3, 25) == "00003_00002_v01.png"


@pytest.mark.parametrize("render", ["patch-random", "patch-fixed", "point"])
@pytest.mark.parametrize("color", ["gray", "color"])
def test_fractaldb_modes_render_and_encode(render, color):
    gen = get_generator("fractaldb")
    s = gen.settings(size=40, n_points=3000, render=render, color=color)
    square = np.array([[0.5, 0, 0, 0.5, 0, 0, 0.5], [0.5, 0, 0, 0.5, 0.5, 0.5, 0.5]])
    imgs = {i: im.copy() for i, im in gen.render_many(square, 0, range(8), 1, s)}
    for i in (0, 5, 7):
        np.testing.assert_array_equal(imgs[i], gen.render(square, 0, i, 1, s))
    assert imgs[0].shape == ((40, 40) if color == "gray" else (40, 40, 3)) and imgs[0].dtype == np.uint8
    np.testing.assert_array_equal(imgs[1], imgs[0][::-1])  # flip 1: top-bottom, same render
    with Image.open(io.BytesIO(encode(imgs[0]))) as im:
        assert im.mode == ("L" if color == "gray" else "RGB")
        np.testing.assert_array_equal(np.asarray(im), imgs[0])
    if color == "gray":
        assert set(np.unique(imgs[0]).tolist()) == {0, 127}


def test_fractaldb_rejects_bad_modes():
    gen = get_generator("fractaldb")
    for bad, match in [
        ({"render": "patch"}, "render must be one of"),
        ({"color": "rgb"}, "color must be one of"),
        ({"weight_step": 0.15}, "weight_step"),
    ]:
        with pytest.raises(ValueError, match=match):
            gen.settings(**bad)


# -- fast paths: the same numbers as the plain path, bit for bit -----------------------------

from pcfractal.core import ifs, raster  # noqa: E402
from pcfractal.core.chaos import DRAW_CHUNK, chaos_game  # noqa: E402
from pcfractal.images import _kernels  # noqa: E402


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("n", [1000, DRAW_CHUNK, 2 * DRAW_CHUNK + 17])
@pytest.mark.parametrize("bound", [1e9, 6.0])
def test_orbit_with_stats_equals_chaos_game(dim, n, bound):
    """Same points, same divergence verdict (a finite bound crossed, or overflow to
    inf/NaN) and the generator left in the same state (a diverging orbit stops after its
    chunk), statistics = numpy's min/max/sums."""
    diverged = 0
    for k in range(12):
        system = ifs.sample_uniform(np.random.default_rng(100 + k), dim=dim) * (1.0 if k % 3 else 1.6)
        r1, r2 = np.random.default_rng(k), np.random.default_rng(k)
        ref = chaos_game(system, n, r1, bound=bound)
        pts, st = _kernels.orbit_with_stats(system, n, r2, bound=bound)
        assert r1.random() == r2.random()
        if ref is None:
            assert pts is None
            diverged += 1
            continue
        np.testing.assert_array_equal(pts, ref)
        np.testing.assert_array_equal(st[0 : 2 * dim : 2], ref.min(axis=0))
        np.testing.assert_array_equal(st[1 : 2 * dim : 2], ref.max(axis=0))
        np.testing.assert_array_equal(st[2 * dim :], raster._column_sums(ref))
        if dim == 3:
            ok, scale, shift = raster.normalization_affine(ref)
            ok2, scale2, shift2 = _kernels.normalization_from_stats(st, n, 3)
            assert ok == ok2 and scale == scale2
            np.testing.assert_array_equal(shift, shift2)
        else:
            cols, rows = np.empty(n + 1, np.int32), np.empty(n + 1, np.int32)
            cols2, rows2 = np.empty(n + 1, np.int32), np.empty(n + 1, np.int32)
            assert raster.authors_pixels(ref, 300, 6, cols, rows)
            assert raster.authors_pixels_in_extent(
                ref, 300, 6, min(0.0, st[0]), max(0.0, st[1]), min(0.0, st[2]), max(0.0, st[3]), cols2, rows2
            )
            np.testing.assert_array_equal(cols, cols2)
            np.testing.assert_array_equal(rows, rows2)
    assert 0 < diverged and (diverged < 12 or bound < 1e9)  # both outcomes were exercised


@pytest.mark.parametrize("dim", [2, 3])
def test_orbit_with_stats_sees_a_drift_past_either_side_of_the_bound(dim):
    """One map x -> x + step on a single axis crosses +bound or -bound after ~bound steps
    while every other statistic stays tame; and x -> 1e10 x + 1 overflows to inf, then NaN
    appears on another axis. chaos_game and the fast path must agree each time."""
    for axis in range(dim):
        for step in (1.0, -1.0):
            a = np.eye(dim)
            t = np.zeros(dim)
            t[axis] = step
            system = np.concatenate([a.reshape(1, -1), t[None, :]], axis=1)
            for n in (50, 500):
                ref = chaos_game(system, n, np.random.default_rng(0), probabilities=np.ones(1), bound=100.0)
                pts, _ = _kernels.orbit_with_stats(system, n, np.random.default_rng(0), probabilities=np.ones(1), bound=100.0)
                assert (ref is None) == (pts is None) == (n == 500)
    a = np.eye(dim) * 1e10
    a[1, 0] = -1e10  # y = 1e10 (y - x) + 1: inf - inf = NaN once x overflows
    system = np.concatenate([a.reshape(1, -1), np.ones((1, dim))], axis=1)
    assert chaos_game(system, 100, np.random.default_rng(0), probabilities=np.ones(1)) is None
    assert _kernels.orbit_with_stats(system, 100, np.random.default_rng(0), probabilities=np.ones(1)) == (None, None)


def _paste_reference(image, cols, rows, codes, colors, corner, blank):
    """The paste rule restated cell by cell in Python (raster.paste_patches' docstring)."""
    h, w = image.shape[:2]
    for i in range(len(cols)):
        code = int(codes[0] if len(codes) == 1 else codes[i])
        bits = format(code, "09b")
        for dr in range(3):
            for dc in range(3):
                r, c = rows[i] + corner + dr, cols[i] + corner + dc
                if not (0 <= r < h and 0 <= c < w):
                    continue
                if bits[3 * dr + dc] == "1":
                    image[h - 1 - r, c] = colors[i % len(colors)]
                elif blank:
                    image[h - 1 - r, c] = 0


@pytest.mark.parametrize("channels,n_colors", [(1, 1), (1, 128), (3, 1), (3, 128)])
@pytest.mark.parametrize("codes_kind", ["random", "one", "point"])
@pytest.mark.parametrize("inside", [True, False])
def test_paste_patches_fast_kernels_equal_the_rule(channels, n_colors, codes_kind, inside):
    rng = np.random.default_rng(7)
    size, n = 30, 400
    lo, hi = (6, size - 6) if inside else (-2, size + 1)
    cols = rng.integers(lo, hi, n).astype(np.int32)
    rows = rng.integers(lo, hi, n).astype(np.int32)
    codes = {
        "random": rng.integers(1, 512, n, dtype=np.int16),
        "one": np.array([0b101100111], np.int16),
        "point": np.array([16], np.int16),
    }[codes_kind]
    colors = rng.integers(1, 256, (n_colors, channels)).astype(np.uint8)
    for corner, blank in ((1, True), (-1, False), (1, False)):
        got = np.full((size, size, channels), 9, np.uint8)
        ref = got.copy()
        raster.paste_patches(got, cols, rows, codes, colors, corner, blank)
        _paste_reference(ref, cols, rows, codes, colors, corner, blank)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("flip", range(4))
def test_expand_palette_equals_numpy_take(flip):
    rng = np.random.default_rng(flip)
    index = rng.integers(0, 129, (23, 17)).astype(np.uint8)
    palette = rng.integers(0, 256, (129, 3)).astype(np.uint8)
    view = index[::-1] if flip & 1 else index
    view = view[:, ::-1] if flip & 2 else view
    got = raster.expand_palette(index, palette, bool(flip & 1), bool(flip & 2), np.empty((23, 17, 3), np.uint8))
    np.testing.assert_array_equal(got, np.take(palette, view, axis=0))


@pytest.mark.parametrize("render", ["patch-random", "patch-fixed", "point"])
def test_fractaldb_colour_images_equal_pasting_the_colours_directly(render):
    """Colour renders paste palette indices and map them once; the result must be what
    pasting the authors' RGB colour cycle straight into an RGB image gives, then flipping."""
    from pcfractal.core import keys

    gen = get_generator("fractaldb")
    s = gen.settings(size=48, n_points=4000, render=render, color="color")
    square = np.array([[0.5, 0, 0, 0.5, 0, 0, 0.5], [0.5, 0, 0, 0.5, 0.5, 0.5, 0.5], [0.4, 0.1, 0, 0.5, 0.2, 0.1, 0.3]])
    colors = raster.authors_color_table(128)
    for i in (0, 1, 2, 3, 6):
        row, flip, k, cycle = gen.decompose(i, s)
        cols, rows = gen.pixels(square, 0, row, cycle, 3, s, render_index=k if render == "point" else None)
        rgb = np.zeros((48, 48, 3), np.uint8)
        if render == "point":
            raster.paste_patches(rgb, cols, rows, np.array([16], np.int16), colors, -1, False)
        else:
            rng = keys.generator(3, "fractaldb-patch", 0, row, k, cycle)
            n = cols.shape[0] if render == "patch-random" else 1
            codes = rng.integers(1, 512, n, dtype=np.int16) if n > 1 else np.array([rng.integers(1, 512)], dtype=np.int16)
            raster.paste_patches(rgb, cols, rows, codes, colors, 1, True)
        want = rgb[::-1] if flip & 1 else rgb
        want = want[:, ::-1] if flip & 2 else want
        np.testing.assert_array_equal(gen.render(square, 0, i, 3, s), want)


@pytest.mark.parametrize("views", ["sphere", "authors"])
def test_exfractaldb_images_equal_the_plain_chaos_game_path(views):
    """render_many's one-pass orbit + normalisation draws what chaos_game, normalization_affine
    and splat_perspective draw (default 100k points: several draw chunks)."""
    gen = get_generator("exfractaldb")
    s = gen.settings(size=64, views=views, threshold=0.05)
    classes = gen.make_classes(1, 2, s)
    table = ifs.weight_table(s.weight_rows, 12)
    many = {i: im.copy() for i, im in gen.render_many(classes.params[0], 0, [0, 1, 13], 5, s)}
    from pcfractal.core import keys

    for i in (0, 1, 13):
        camera = gen.camera(0, i, 5, s)
        rng = keys.generator(5, "exfractaldb", 0, i) if views == "sphere" else keys.generator(5, "exfractaldb-model", 0, i // 12)
        if views == "sphere":
            raster.random_camera(rng, s.distance, s.fov_deg, s.size)
        row = i % len(table) if views == "sphere" else (i // 12) % len(table)
        while True:
            pts = chaos_game(ifs.fluctuate(classes.params[0], table[row]), s.n_points, rng)
            if pts is not None and raster.normalization_affine(pts)[0]:
                break
            row = int(rng.integers(len(table)))
        ok, scale, shift = raster.normalization_affine(pts)
        img = np.zeros((s.size, s.size), np.uint8)
        raster.splat_perspective(pts, camera, img, 255, scale, shift)
        np.testing.assert_array_equal(many[i], img)


@pytest.mark.parametrize("render", ["patch-random", "point"])
def test_fractaldb_pixels_equal_the_plain_orbit_path(render):
    """FractalDB.pixels (one-pass orbit + extent) = points() (chaos_game) + authors_pixels,
    so every render draws the plain path's pixels (200k points: several draw chunks)."""
    from pcfractal.images import fractaldb as fdb

    gen = get_generator("fractaldb")
    s = gen.settings(render=render, filling_rate=0.05, search_points=20000)
    params = gen.make_classes(1, 4, s).params[0]
    for row, k in ((0, 0), (3, 2), (24, 9)):
        ri = k if render == "point" else None
        cols, rows = gen.pixels(params, 0, row, 0, 4, s, render_index=ri)
        c2, r2 = fdb._pixels(gen.points(params, 0, row, 0, 4, s, render_index=ri), s.size, s.pad)
        np.testing.assert_array_equal(cols, c2)
        np.testing.assert_array_equal(rows, r2)


def test_png_encoder_reuses_its_row_buffer_safely():
    """Alternating shapes and channels, and 4 threads at once: every file decodes (Pillow)
    to its own pixels."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(17, 9), (17, 9, 3), (40, 31), (17, 9), (5, 64, 3)] * 8]

    def round_trip(im):
        with Image.open(io.BytesIO(encode(im))) as decoded:
            return np.array_equal(np.asarray(decoded), im)

    assert all(round_trip(im) for im in images)
    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(round_trip, images))
