"""Layout sampling against the spec (PCFRACTALDB.md, "3D scenes"): the overlap rule, the
growth stop, and the distributions of counts, sizes, aspects and yaw (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pcfractal.core import keys
from scene_builder import SceneSettings, overlap_violations, sample_layout
from scene_builder.layout import box_corners

N_LAYOUTS = 3000


def reference_layout(
    rng, base=15, lam=5.0, size=(0.75, 1.25), aspect=(0.9, 1.1), room=15.0, yaw=(-math.pi, math.pi), margin=0.25, tries=100
):
    """Straightforward re-implementation from the documented draw order."""
    n = base + int(rng.poisson(lam))
    out = []
    for _ in range(n):
        u = rng.random(4)
        dx = size[0] + (size[1] - size[0]) * u[0]
        dy = dx * (aspect[0] + (aspect[1] - aspect[0]) * u[1])
        dz = dx * (aspect[0] + (aspect[1] - aspect[0]) * u[2])
        th = yaw[0] + (yaw[1] - yaw[0]) * u[3]
        ok = None
        for _ in range(tries):
            c = rng.random(2)
            x, y = -room / 2 + room * c[0], -room / 2 + room * c[1]
            if all(math.hypot(x - b[0], y - b[1]) >= (math.hypot(dx, dy) + math.hypot(b[3], b[4])) / 2 + margin for b in out):
                ok = (x, y, dz / 2, dx, dy, dz, th)
                break
        if ok is None:
            break
        out.append(ok)
    return np.array(out, dtype=np.float64).reshape(-1, 7), n


@pytest.fixture(scope="module")
def layouts():
    return [sample_layout(keys.generator(7, "scene", i)) for i in range(N_LAYOUTS)]


def ks_uniform(x, lo, hi):
    """Kolmogorov-Smirnov statistic of x against U[lo, hi]."""
    u = np.sort((np.asarray(x) - lo) / (hi - lo))
    n = len(u)
    i = np.arange(1, n + 1)
    return max(np.max(i / n - u), np.max(u - (i - 1) / n))


def ks_limit(n, alpha_coef=1.95):
    """Critical KS value at alpha ~ 0.001 (1.95 / sqrt(n))."""
    return alpha_coef / math.sqrt(n)


def test_matches_reference_implementation():
    for i in range(50):
        got, wanted = sample_layout(keys.generator(3, "scene", i))
        ref, n = reference_layout(keys.generator(3, "scene", i))
        assert wanted == n
        np.testing.assert_array_equal(got, ref)
    # crowded rooms exercise the stop rule
    for i in range(50):
        got, wanted = sample_layout(keys.generator(3, "scene", i), room_size=4.0, max_tries=5)
        ref, n = reference_layout(keys.generator(3, "scene", i), room=4.0, tries=5)
        np.testing.assert_array_equal(got, ref)


def test_no_overlap_and_on_floor(layouts):
    for boxes, _ in layouts[:500]:
        assert overlap_violations(boxes, 0.25) == []
        np.testing.assert_allclose(boxes[:, 2], boxes[:, 5] / 2)
        assert np.all(np.abs(boxes[:, :2]) <= 7.5)
        assert np.min(box_corners(boxes)[..., 2]) > -1e-12  # nothing below the floor


def test_crowded_room_stops_growing_and_keeps_rule():
    stopped = 0
    for i in range(200):
        boxes, wanted = sample_layout(keys.generator(1, "scene", i), room_size=5.0)
        assert overlap_violations(boxes, 0.25) == []
        assert 1 <= len(boxes) <= wanted
        stopped += len(boxes) < wanted
    assert stopped > 150  # a 5 m room cannot hold ~20 objects


def test_object_counts_follow_base_plus_poisson(layouts):
    wanted = np.array([w for _, w in layouts])
    placed = np.array([len(b) for b, _ in layouts])
    extra = wanted - 15
    assert extra.min() >= 0
    se = math.sqrt(5.0 / N_LAYOUTS)
    assert abs(extra.mean() - 5.0) < 4 * se
    assert abs(extra.var() - 5.0) < 0.5  # sd of the sample variance ~ sqrt((5 + 2*25)/n) = 0.14
    for k in range(0, 12):  # Poisson pmf, 4-sigma binomial tolerance
        p = math.exp(-5.0) * 5.0**k / math.factorial(k)
        assert abs(np.mean(extra == k) - p) < 4 * math.sqrt(p * (1 - p) / N_LAYOUTS) + 1e-3
    assert np.mean(placed == wanted) > 0.99  # a 15 m room almost always takes every object


def test_sizes_aspects_and_yaw_are_uniform(layouts):
    boxes = np.concatenate([b for b, _ in layouts])
    n = len(boxes)
    dx, dy, dz, yaw = boxes[:, 3], boxes[:, 4], boxes[:, 5], boxes[:, 6]
    assert dx.min() >= 0.75 and dx.max() <= 1.25
    assert ks_uniform(dx, 0.75, 1.25) < ks_limit(n)
    assert ks_uniform(dy / dx, 0.9, 1.1) < ks_limit(n)
    assert ks_uniform(dz / dx, 0.9, 1.1) < ks_limit(n)
    assert ks_uniform(yaw, -math.pi, math.pi) < ks_limit(n)
    assert abs(np.corrcoef(dy / dx, dz / dx)[0, 1]) < 4 / math.sqrt(n)  # independent aspects
    # centres: uniform up to the (rare) rejections
    assert ks_uniform(boxes[:, 0], -7.5, 7.5) < 3 * ks_limit(n)


def test_settings_are_parameters():
    boxes, wanted = sample_layout(
        keys.generator(0, "scene", 0),
        base_objects=3,
        extra_objects_mean=0,
        size_range=(2.0, 2.0),
        aspect_range=(1.0, 1.0),
        yaw_range=(0.0, 0.0),
        room_size=30.0,
    )
    assert wanted == 3 and len(boxes) == 3
    np.testing.assert_array_equal(boxes[:, 3:6], 2.0)
    np.testing.assert_array_equal(boxes[:, 6], 0.0)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"room_size": 1.0}, "too small for any object"),
        ({"label_mode": "car"}, "label_mode"),
        ({"size_range": (1.0, 0.5)}, "size_range"),
        ({"base_objects": 0, "extra_objects_mean": 0}, "empty scenes"),
        ({"instances_per_category": 0}, "instances_per_category"),
    ],
)
def test_bad_settings_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        SceneSettings(**kw).validate()
