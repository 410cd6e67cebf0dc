"""Scenes: every object point inside its own rotated box and every box tight (independent
check), masks in mmdet3d's ScanNet convention, determinism, object draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pcfractal.pointclouds.instances import InstanceSettings, make_instance
from scene_builder import SceneSettings, class_names, make_scene, plan_scene, seg_label_mapping

TOL = 1e-4


def to_box_frame(points, box):
    """Points in the box's local frame (centre at 0, axes along its sides), float64."""
    p = np.asarray(points, dtype=np.float64) - box[:3]
    c, s = math.cos(box[6]), math.sin(box[6])
    return np.stack([c * p[:, 0] + s * p[:, 1], -s * p[:, 0] + c * p[:, 1], p[:, 2]], 1)


@pytest.mark.parametrize("index", range(6))
def test_points_inside_own_box_and_boxes_tight(systems, index):
    sc = make_scene(systems, index, seed=11)
    assert sc.points.dtype == np.float32 and sc.points.shape == (sc.num_objects * 4000, 3)
    assert sc.num_objects >= 15
    for k, box in enumerate(sc.boxes):
        loc = to_box_frame(sc.object_points(k), box)
        half = box[3:6] / 2
        assert np.all(np.abs(loc) <= half + TOL), f"object {k} leaves its box"
        np.testing.assert_allclose(loc.max(0), half, atol=TOL)  # touches every face
        np.testing.assert_allclose(loc.min(0), -half, atol=TOL)
    assert sc.points[:, 2].min() >= -TOL  # on the floor, not below


def test_masks_follow_scannet_convention(systems):
    sc = make_scene(systems, 2, seed=0, settings=SceneSettings(floor_points=500, wall_points=300))
    k, n = sc.num_objects, 4000
    assert sc.instance_mask.dtype == np.int64 and sc.semantic_mask.dtype == np.int64
    assert len(sc.points) == k * n + 800
    np.testing.assert_array_equal(sc.instance_mask[: k * n], np.repeat(np.arange(1, k + 1), n))
    np.testing.assert_array_equal(sc.semantic_mask[: k * n], np.repeat(sc.labels + 1, n))
    assert np.all(sc.instance_mask[k * n :] == 0) and np.all(sc.semantic_mask[k * n :] == 0)
    floor = sc.points[k * n : k * n + 500]
    walls = sc.points[k * n + 500 :]
    assert np.all(floor[:, 2] == 0) and np.all(np.abs(floor[:, :2]) <= 7.5)
    assert np.all(np.isclose(np.abs(walls[:, :2]), 7.5).any(1)) and np.all((walls[:, 2] >= 0) & (walls[:, 2] <= 3))
    # mmdet3d's PointSegClassMapping: label_mapping[raw] -> label, background -> C (ignored)
    c = len(sc.classes)
    mapped = seg_label_mapping(c)[sc.semantic_mask]
    np.testing.assert_array_equal(mapped[: k * n], np.repeat(sc.labels, n))
    assert np.all(mapped[k * n :] == c)


def test_votenet_with_rot_false_centres_on_axis_aligned_scenes(systems):
    """VoteNet (with_rot=False) votes to the midpoint of each instance's point extent: for
    axis-aligned scenes that is exactly the box centre."""
    sc = make_scene(systems, 0, seed=0, settings=SceneSettings(yaw_range=(0.0, 0.0)))
    for k in np.unique(sc.instance_mask):
        pts = sc.points[sc.instance_mask == k].astype(np.float64)
        centre = 0.5 * (pts.min(0) + pts.max(0))
        np.testing.assert_allclose(centre, sc.boxes[k - 1, :3], atol=TOL)
        np.testing.assert_allclose(pts.max(0) - pts.min(0), sc.boxes[k - 1, 3:6], atol=TOL)


def test_objects_are_the_instances_fitted(systems):
    sc = make_scene(systems, 4, seed=5)
    for k in (0, sc.num_objects - 1):
        inst = make_instance(systems, int(sc.categories[k]), int(sc.instances[k]), 5, InstanceSettings()).points.astype(np.float64)
        lo, hi = inst.min(0), inst.max(0)
        local = (inst - (lo + hi) / 2) * (sc.boxes[k, 3:6] / (hi - lo))
        c, s = math.cos(sc.boxes[k, 6]), math.sin(sc.boxes[k, 6])
        world = np.stack([c * local[:, 0] - s * local[:, 1], s * local[:, 0] + c * local[:, 1], local[:, 2]], 1) + sc.boxes[k, :3]
        np.testing.assert_allclose(sc.object_points(k), world, atol=1e-5)


def test_deterministic_and_keyed(systems):
    a = make_scene(systems, 3, seed=1)
    b = make_scene(systems, 3, seed=1)
    for f in ("points", "instance_mask", "semantic_mask", "boxes", "labels", "categories", "instances"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    c = make_scene(systems, 4, seed=1)
    d = make_scene(systems, 3, seed=2)
    assert not np.array_equal(a.boxes[:1], c.boxes[:1]) and not np.array_equal(a.boxes[:1], d.boxes[:1])


def test_label_modes(systems):
    sc = make_scene(systems, 0, seed=0, settings=SceneSettings(label_mode="object"))
    assert sc.classes == ("object",) and np.all(sc.labels == 0) and np.all(sc.semantic_mask == 1)
    sc = make_scene(systems, 0, seed=0)
    assert sc.classes == class_names(len(systems)) == tuple(f"fractal_{i:04d}" for i in range(len(systems)))
    np.testing.assert_array_equal(sc.labels, sc.categories)


def test_object_draws_are_uniform(systems):
    per = 7
    s = SceneSettings(instances_per_category=per)
    ids = np.concatenate(
        [plan_scene(len(systems), i, 0, s).categories * per + plan_scene(len(systems), i, 0, s).instances for i in range(600)]
    )
    cells = len(systems) * per
    assert ids.min() >= 0 and ids.max() < cells
    counts = np.bincount(ids, minlength=cells)
    expected = len(ids) / cells
    chi2 = ((counts - expected) ** 2 / expected).sum()
    dof = cells - 1
    assert chi2 < dof + 5 * math.sqrt(2 * dof)  # ~ 5-sigma upper tail


def test_needs_two_categories(systems):
    with pytest.raises(ValueError, match="at least 2 categories"):
        make_scene(systems[:1], 0, seed=0)
