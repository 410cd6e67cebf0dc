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
    for level in (0, 1, 6, 9):
        data = encode_gray(img, level)
        with Image.open(io.BytesIO(data)) as im:
            assert im.mode == "L"
            np.testing.assert_array_equal(np.asarray(im), img)
        assert encode_gray(img, level) == data


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
    for bad, match in [({"render": "patch"}, "render must be one of"), ({"color": "rgb"}, "color must be one of"), ({"weight_step": 0.15}, "weight_step")]:
        with pytest.raises(ValueError, match=match):
            gen.settings(**bad)
