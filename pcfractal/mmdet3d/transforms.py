"""Pipeline transforms that build fractal data inside mmdet3d's data pipeline.

``LoadFractalScene``
    First transform of a ``FractalSceneOnTheFlyDataset`` pipeline: builds the
    scene named by the entry (category file, scene index, seed, settings) with
    ``scene_builder.make_scene`` and puts in the results what mmdet3d's
    ``LoadPointsFromFile`` + ``LoadAnnotations3D`` put there for a written
    scene: ``points`` (DepthPoints, xyz + height), ``gt_bboxes_3d`` (rotated
    DepthInstance3DBoxes, gravity centre in, bottom centre kept),
    ``gt_labels_3d`` and, on request, ``pts_instance_mask`` /
    ``pts_semantic_mask``; in test mode also ``eval_ann_info`` for IndoorMetric.
``LoadFractalInstance``
    First transform of a ``PCFractalDBInstanceDataset`` pipeline: one
    FractalNoiseMix instance cloud, scaled to an object of the scene's size
    standing on the floor, with its category as ``gt_labels_3d`` (shape (1,)).

``AxisAlignFractalBoxes``
    The pre-training target ``box_mode='axis_aligned'`` (ScanNet's
    convention): each object's box becomes the axis-aligned min/max box of
    its points (in the augmented frame: place it after the rotation), and
    the per-point instance and semantic masks that VoteNet's ``with_rot=False``
    vote targets need are made from the exact rotated boxes.

The category systems are read once per process (and per file).
"""

from __future__ import annotations

import functools
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS
from mmdet3d.structures import DepthInstance3DBoxes
from mmdet3d.structures.points import DepthPoints

__all__ = [
    "LoadFractalScene",
    "LoadFractalInstance",
    "AxisAlignFractalBoxes",
    "category_systems",
    "make_scene_from_spec",
    "scene_settings",
    "instance_settings",
]


@functools.lru_cache(maxsize=8)
def _systems(path: str) -> tuple:
    from pcfractal.pointclouds.category_file import CategorySet

    return tuple(CategorySet.load(path).systems)


def category_systems(category_file: str) -> list:
    """The (N, 12) float64 systems of a category file, cached per process."""
    return list(_systems(osp.abspath(category_file)))


def scene_settings(settings: Optional[dict]):
    """``scene_builder.SceneSettings`` from a config dict (lists -> tuples)."""
    import scene_builder

    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in (settings or {}).items()}
    return scene_builder.SceneSettings(**kw).validate()


def instance_settings(settings: Optional[dict]):
    """``pcfractal.pointclouds.instances.InstanceSettings`` from a config dict."""
    from pcfractal.pointclouds.instances import InstanceSettings

    return InstanceSettings(**(settings or {})).validate()


def make_scene_from_spec(spec: dict):
    """The ``scene_builder.Scene`` of an on-the-fly entry: category file,
    index, seed, scene and instance settings."""
    import scene_builder

    return scene_builder.make_scene(
        category_systems(spec["category_file"]),
        int(spec["index"]),
        int(spec["seed"]),
        scene_settings(spec.get("settings")),
        instance_settings(spec.get("instance_settings")),
    )


def _with_height(xyz: np.ndarray, shift_height: bool):
    """xyz (P, 3) -> (points array, points_dim, attribute_dims) the way
    ``LoadPointsFromFile(shift_height=True)`` does it: height above the 0.99th
    percentile of z as a 4th channel."""
    xyz = np.ascontiguousarray(xyz, dtype=np.float32)
    if not shift_height:
        return xyz, 3, None
    floor = np.percentile(xyz[:, 2], 0.99)
    pts = np.concatenate([xyz, (xyz[:, 2:3] - floor)], axis=1)
    return pts.astype(np.float32), 4, dict(height=3)


@TRANSFORMS.register_module()
class LoadFractalScene(BaseTransform):
    """Build the fractal scene of ``results['fractal_scene']``.

    Required keys: ``fractal_scene`` (dict with ``category_file``, ``index``,
    ``seed``, ``settings``, ``class_mode``, ``label_map``, ``with_eval_ann``;
    written by ``FractalSceneOnTheFlyDataset``), ``box_mode_3d``.

    Added keys: ``points``, ``gt_bboxes_3d``, ``gt_labels_3d``,
    ``num_pts_feats``, ``lidar_path`` (a description, no file), and optionally
    ``pts_instance_mask``, ``pts_semantic_mask``, ``eval_ann_info``.

    Args:
        shift_height (bool): append the height channel (VoteNet's 4th input
            channel). Defaults to True.
        with_mask_3d (bool): add ``pts_instance_mask``. Defaults to False.
        with_seg_3d (bool): add ``pts_semantic_mask``. Defaults to False.
    """

    def __init__(self, shift_height: bool = True, with_mask_3d: bool = False, with_seg_3d: bool = False) -> None:
        self.shift_height = shift_height
        self.with_mask_3d = with_mask_3d
        self.with_seg_3d = with_seg_3d

    @staticmethod
    def build_scene(spec: dict):
        """The ``scene_builder.Scene`` an entry names."""
        return make_scene_from_spec(spec)

    def transform(self, results: dict) -> dict:
        spec = results["fractal_scene"]
        scene = self.build_scene(spec)
        pts, dim, attr = _with_height(scene.points, self.shift_height)
        results["points"] = DepthPoints(pts, points_dim=dim, attribute_dims=attr)
        results["num_pts_feats"] = dim
        results["lidar_path"] = f"fractal_scene(index={spec['index']}, seed={spec['seed']})"

        labels = np.asarray(scene.labels, dtype=np.int64).reshape(-1)
        if spec.get("class_mode") == "object":
            labels = np.zeros_like(labels)
        elif spec.get("label_map") is not None:
            label_map = np.asarray(spec["label_map"])
            if labels.size and labels.max() >= len(label_map):
                raise ValueError(f"scene {spec['index']} has label {labels.max()} but the category file has {len(label_map)} categories")
            labels = label_map[labels]
        keep = labels > -1
        boxes = np.asarray(scene.boxes, dtype=np.float32).reshape(-1, 7)[keep]
        results["gt_bboxes_3d"] = DepthInstance3DBoxes(boxes, box_dim=7, with_yaw=True, origin=(0.5, 0.5, 0.5)).convert_to(
            results["box_mode_3d"]
        )
        results["gt_labels_3d"] = labels[keep]
        if self.with_mask_3d:
            results["pts_instance_mask"] = np.asarray(scene.instance_mask, dtype=np.int64)
        if self.with_seg_3d:
            results["pts_semantic_mask"] = np.asarray(scene.semantic_mask, dtype=np.int64)
        if spec.get("with_eval_ann"):
            results["eval_ann_info"] = dict(gt_bboxes_3d=results["gt_bboxes_3d"].clone(), gt_labels_3d=results["gt_labels_3d"].copy())
        return results

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(shift_height={self.shift_height}, with_mask_3d={self.with_mask_3d}, with_seg_3d={self.with_seg_3d})"
        )


@TRANSFORMS.register_module()
class LoadFractalInstance(BaseTransform):
    """Build the PC-FractalDB instance of ``results['fractal_instance']``.

    The FractalNoiseMix cloud (centred, within [-1, 1]) is scaled uniformly so
    that its largest extent is ``object_size`` metres and moved to stand on the
    floor (lowest point at z = 0, centred in x, y): the scale of the objects of
    a fractal scene, so that the backbone's ball-query radii see the same
    geometry in both pre-training tasks.

    Required keys: ``fractal_instance`` (dict with ``category_file``,
    ``num_categories``, ``category``, ``index``, ``seed``, ``settings``).
    Added keys: ``points``, ``gt_labels_3d`` (int64, shape (1,)),
    ``num_pts_feats``.

    Args:
        object_size (float): largest extent of the object in metres.
            Defaults to 1.0 (the mean fractal-scene box size).
        shift_height (bool): append the height channel. Defaults to True.
    """

    def __init__(self, object_size: float = 1.0, shift_height: bool = True) -> None:
        if not object_size > 0:
            raise ValueError(f"object_size must be > 0, got {object_size}")
        self.object_size = float(object_size)
        self.shift_height = shift_height

    @staticmethod
    def build_instance(spec: dict) -> np.ndarray:
        """(n_points, 3) float32 instance cloud of an entry."""
        from pcfractal.pointclouds.instances import make_instance

        systems = category_systems(spec["category_file"])
        n = spec.get("num_categories") or len(systems)
        return make_instance(
            systems[:n], int(spec["category"]), int(spec["index"]), int(spec["seed"]), instance_settings(spec.get("settings"))
        ).points

    def transform(self, results: dict) -> Optional[dict]:
        spec = results["fractal_instance"]
        xyz = self.build_instance(spec).astype(np.float32)
        lo, hi = xyz.min(0), xyz.max(0)
        scale = self.object_size / max(float((hi - lo).max()), 1e-6)
        xyz = (xyz - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]], dtype=np.float32)) * scale
        pts, dim, attr = _with_height(xyz, self.shift_height)
        results["points"] = DepthPoints(pts, points_dim=dim, attribute_dims=attr)
        results["num_pts_feats"] = dim
        results["gt_labels_3d"] = np.array([int(spec["category"])], dtype=np.int64)
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(object_size={self.object_size}, shift_height={self.shift_height})"


@TRANSFORMS.register_module()
class AxisAlignFractalBoxes(BaseTransform):
    """Replace rotated fractal boxes by the axis-aligned boxes of their
    objects' points, ScanNet's convention (``box_mode='axis_aligned'``).

    A fractal box is the exact, tight rotated box of its object and boxes do
    not overlap, so the points inside box ``k`` (grown by ``margin`` to keep
    the points on its faces) are object ``k``'s points. Then:

    * ``gt_bboxes_3d``: the min/max box of those points, yaw 0, without yaw
      (``with_yaw=False``, as ScanNet's boxes); a box without points keeps
      the min/max box of its corners;
    * ``pts_instance_mask``: ``k + 1`` for object ``k``'s points, 0 else;
    * ``pts_semantic_mask``: the object's label, ``BACKGROUND`` else (above
      any class index, so VoteNet's vote targets skip those points);
    * ``eval_ann_info['gt_bboxes_3d']`` (test mode) likewise, so a model
      trained on axis-aligned boxes is scored against axis-aligned boxes.

    Put it after the augmentation that rotates the scene (the boxes are
    measured in the frame the network sees) and before ``PointSample``
    (which samples the masks with the points); pack the masks with
    ``Pack3DDetInputs(keys=[..., 'pts_semantic_mask',
    'pts_instance_mask'])``.

    Args:
        margin (float): metres added on every side of a box to find its
            points. Defaults to 0.001.
    """

    BACKGROUND = 2**31 - 1

    def __init__(self, margin: float = 0.001) -> None:
        if not margin >= 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.margin = float(margin)

    def _owner(self, boxes, xyz: torch.Tensor) -> torch.Tensor:
        """(N,) index of the box holding each point, -1 for none."""
        if len(boxes) == 0:
            return torch.full((len(xyz),), -1, dtype=torch.long)
        grown = boxes.clone()
        grown.tensor[:, 3:6] += 2 * self.margin
        grown.tensor[:, 2] -= self.margin  # bottom centre stays below
        return grown.points_in_boxes_part(xyz).long().reshape(-1)

    @staticmethod
    def _aabb(boxes, xyz: torch.Tensor, owner: torch.Tensor):
        k = len(boxes)
        corners = boxes.corners  # (K, 8, 3)
        lo = corners.min(dim=1)[0].clone() if k else xyz.new_zeros((0, 3))
        hi = corners.max(dim=1)[0].clone() if k else xyz.new_zeros((0, 3))
        inside = owner >= 0
        if inside.any():
            idx = owner[inside][:, None].expand(-1, 3)
            pts = xyz[inside]
            has = torch.zeros(k, dtype=torch.bool)
            has[owner[inside]] = True
            plo = torch.full((k, 3), float("inf"), dtype=xyz.dtype)
            phi = torch.full((k, 3), -float("inf"), dtype=xyz.dtype)
            plo = plo.scatter_reduce(0, idx, pts, "amin")
            phi = phi.scatter_reduce(0, idx, pts, "amax")
            lo[has], hi[has] = plo[has], phi[has]
        centre = (lo + hi) / 2
        bottom = torch.cat([centre[:, :2], lo[:, 2:3]], 1)
        return type(boxes)(torch.cat([bottom, hi - lo], 1), box_dim=6, with_yaw=False)

    def transform(self, results: dict) -> dict:
        xyz = results["points"].tensor[:, :3]
        if "gt_bboxes_3d" in results:
            boxes = results["gt_bboxes_3d"]
            labels = np.asarray(results["gt_labels_3d"], dtype=np.int64)
            owner = self._owner(boxes, xyz)
            results["gt_bboxes_3d"] = self._aabb(boxes, xyz, owner)
            own = owner.numpy()
            inside = own >= 0
            results["pts_instance_mask"] = (own + 1).astype(np.int64)
            sem = np.full(len(own), self.BACKGROUND, dtype=np.int64)
            sem[inside] = labels[own[inside]]
            results["pts_semantic_mask"] = sem
        ev = results.get("eval_ann_info")
        if ev is not None and "gt_bboxes_3d" in ev:
            boxes = ev["gt_bboxes_3d"]
            ev["gt_bboxes_3d"] = self._aabb(boxes, xyz, self._owner(boxes, xyz))
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(margin={self.margin})"
