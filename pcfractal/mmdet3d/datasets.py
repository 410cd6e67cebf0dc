"""Fractal-scene and PC-FractalDB datasets registered in mmdet3d's DATASETS.

Three datasets, each usable from a config by its registered name:

``FractalSceneDataset``
    The fractal scenes written to disk by ``scene_builder.writers.mmdet3d``: an
    mmdet3d-1.x info file (``metainfo`` + ``data_list``, ScanNet-style entries with
    ``lidar_points``, ``pts_instance_mask_path``, ``pts_semantic_mask_path`` and
    ``instances``) beside ``points/``, ``instance_mask/``, ``semantic_mask/`` .bin
    files. Load it with mmdet3d's own ``LoadPointsFromFile`` /
    ``LoadAnnotations3D``.
``FractalSceneOnTheFlyDataset``
    The same scenes, never written: an entry is only (scene index, seed, category
    file, scene settings), and the first pipeline transform,
    :class:`pcfractal.mmdet3d.transforms.LoadFractalScene`, builds the scene with
    ``scene_builder.make_scene`` inside the data loader worker. Scene ``i`` is the
    same scene as entry ``i`` of a written dataset built with the same category
    file, seed and settings.
``PCFractalDBInstanceDataset``
    PC-FractalDB instances (category, instance index) for the classification
    pre-training variant; :class:`~pcfractal.mmdet3d.transforms.LoadFractalInstance`
    builds each instance cloud in the pipeline.

Boxes and VoteNet's vote targets
--------------------------------
A fractal box has a heading (yaw uniform in [-pi, pi]), so the scenes are
trained like SUN RGB-D, not like ScanNet: the boxes are
``DepthInstance3DBoxes(..., with_yaw=True, origin=(0.5, 0.5, 0.5))`` (gravity
centres, as written), and the configs use ``PartialBinBasedBBoxCoder`` with
``with_rot=True`` and 12 heading bins. With ``with_rot=True`` VoteHead builds the
vote targets from ``points_in_boxes_all`` on the (augmented) boxes: every point
inside box ``k`` votes for ``gravity_center[k] - point``. That is exact here
because a fractal box is the tight, rotated box of its object's points and the
placement rule keeps boxes apart, so the points in a box are exactly its object's
points. The ScanNet path (``with_rot=False``) would instead vote for the centre of
the axis-aligned min/max of each instance's points, which for a rotated,
asymmetric fractal is not the box centre, and it would predict no heading.
The per-point masks are written and loaded for other uses but VoteNet does not
need them for these scenes.

Class names
-----------
Fractal categories are numbered; their class names are ``'fractal_0000'``,
``'fractal_0001'``, ... (:func:`fractal_class_names`, as ``scene_builder`` names
them) unless the info file's ``metainfo`` gives others. ``class_mode='object'`` maps every object to the single
class ``'object'`` (the one-class detection mode).
"""

from __future__ import annotations

import copy
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmdet3d.datasets import Det3DDataset
from mmdet3d.registry import DATASETS
from mmdet3d.structures import DepthInstance3DBoxes
from mmengine.dataset import BaseDataset
from mmengine.fileio import load

__all__ = ["FractalSceneDataset", "FractalSceneOnTheFlyDataset", "PCFractalDBInstanceDataset", "fractal_class_names", "CLASS_MODES"]

CLASS_MODES = ("category", "object")


def fractal_class_names(num_classes: int) -> tuple:
    """Class names of ``num_classes`` fractal categories, the names
    ``scene_builder``'s writer puts in its info files.

    >>> fractal_class_names(2)
    ('fractal_0000', 'fractal_0001')
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    from scene_builder import class_names

    return tuple(class_names(int(num_classes), "category"))


def _check_class_mode(class_mode: str) -> str:
    if class_mode not in CLASS_MODES:
        raise ValueError(f"class_mode must be one of {CLASS_MODES}, got {class_mode!r}")
    return class_mode


def _category_count(category_file: str) -> int:
    from pcfractal.pointclouds.category_file import CategorySet

    return len(CategorySet.load(category_file))


def _to_boxes(boxes: np.ndarray, box_mode_3d) -> DepthInstance3DBoxes:
    """(K, 7) gravity-centre boxes x, y, z, dx, dy, dz, yaw -> mmdet3d boxes."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 7)
    return DepthInstance3DBoxes(boxes, box_dim=7, with_yaw=True, origin=(0.5, 0.5, 0.5)).convert_to(box_mode_3d)


class _FractalClassesMixin:
    """Classes resolved per instance (the number of fractal categories is a
    property of the data, not of the dataset class) and the 'object' mode.

    Det3DDataset maps labels through ``self.METAINFO['classes']`` by name; an
    instance attribute ``METAINFO`` set before ``Det3DDataset.__init__`` gives it
    the classes of this data.
    """

    def _setup_classes(self, source_classes: Sequence[str], metainfo: Optional[dict], class_mode: str) -> dict:
        self.class_mode = _check_class_mode(class_mode)
        self.source_classes = tuple(source_classes)
        metainfo = dict(metainfo or {})
        if class_mode == "object":
            self.METAINFO = dict(classes=("object",))
            metainfo["classes"] = ("object",)
        else:
            self.METAINFO = dict(classes=self.source_classes)
            metainfo.setdefault("classes", self.source_classes)
            unknown = set(metainfo["classes"]) - set(self.source_classes)
            if unknown:
                raise ValueError(
                    f"metainfo classes {sorted(unknown)[:5]} are not classes of "
                    f"this data ({len(self.source_classes)} classes, "
                    f"{self.source_classes[:3]}...)"
                )
        return metainfo

    def _map_label(self, labels: np.ndarray) -> np.ndarray:
        """Source labels -> training labels (-1: not trained)."""
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if self.class_mode == "object":
            return np.zeros_like(labels)
        return np.array([self.label_mapping.get(int(v), -1) for v in labels], dtype=np.int64)


@DATASETS.register_module()
class FractalSceneDataset(_FractalClassesMixin, Det3DDataset):
    """Fractal scenes written by ``scene_builder.writers.mmdet3d``.

    Args:
        data_root (str): folder of the written dataset.
        ann_file (str): info file, relative to ``data_root``.
        metainfo (dict, optional): ``classes`` to train on (a subset of the
            data's classes, by name). Defaults to all classes of the info file.
        data_prefix (dict): folders of points and masks. Defaults to
            ``dict(pts='points', pts_instance_mask='instance_mask',
            pts_semantic_mask='semantic_mask')``.
        pipeline (list): the data pipeline.
        class_mode (str): ``'category'`` (labels are fractal categories) or
            ``'object'`` (one class). Defaults to ``'category'``.
        box_type_3d (str): Defaults to ``'Depth'``.
        filter_empty_gt (bool): drop scenes without boxes in training.
            Defaults to True.
        test_mode (bool): Defaults to False.
        **kwargs: passed to ``Det3DDataset``.
    """

    METAINFO = dict(classes=())

    def __init__(
        self,
        data_root: str,
        ann_file: str,
        metainfo: Optional[dict] = None,
        data_prefix: dict = dict(pts="points", pts_instance_mask="instance_mask", pts_semantic_mask="semantic_mask"),
        pipeline: List[Union[dict, Callable]] = [],
        class_mode: str = "category",
        modality: dict = dict(use_camera=False, use_lidar=True),
        box_type_3d: str = "Depth",
        filter_empty_gt: bool = True,
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        ann_path = ann_file if data_root is None else osp.join(data_root, ann_file)
        metainfo = self._setup_classes(self._read_classes(ann_path), metainfo, class_mode)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            metainfo=metainfo,
            data_prefix=data_prefix,
            pipeline=pipeline,
            modality=modality,
            box_type_3d=box_type_3d,
            filter_empty_gt=filter_empty_gt,
            test_mode=test_mode,
            **kwargs,
        )

    @staticmethod
    def _read_classes(ann_path: str) -> tuple:
        """Class names from the info file: its ``metainfo['classes']``, else
        ``fractal_class_names`` over the largest label found."""
        if not osp.isfile(ann_path):
            raise FileNotFoundError(
                f"{ann_path}: no fractal-scene info file there; write the "
                "dataset with scene_builder.writers.mmdet3d.write_dataset "
                "(see docs/TRAINING.md) or use FractalSceneOnTheFlyDataset"
            )
        data = load(ann_path)
        if not isinstance(data, dict) or "data_list" not in data:
            raise ValueError(f"{ann_path}: not an mmdet3d-1.x info file (a dict with 'metainfo' and 'data_list')")
        meta = data.get("metainfo", {}) or {}
        for key in ("classes", "categories"):
            if key in meta and isinstance(meta[key], (list, tuple)) and meta[key] and isinstance(next(iter(meta[key])), str):
                return tuple(meta[key])
        if isinstance(meta.get("categories"), dict):  # {name: label}
            cats = meta["categories"]
            return tuple(sorted(cats, key=cats.get))
        for key in ("num_classes", "num_categories"):
            if key in meta:
                return fractal_class_names(int(meta[key]))
        labels = [inst["bbox_label_3d"] for info in data["data_list"] for inst in info.get("instances", [])]
        return fractal_class_names(max(labels, default=0) + 1)

    def parse_data_info(self, info: dict) -> dict:
        """Join the mask paths to their folders (when present), then as
        ``Det3DDataset``."""
        for key in ("pts_instance_mask", "pts_semantic_mask"):
            if f"{key}_path" in info:
                info[f"{key}_path"] = osp.join(self.data_prefix.get(key, ""), info[f"{key}_path"])
        return super().parse_data_info(info)

    def parse_ann_info(self, info: dict) -> dict:
        """``instances`` -> ``gt_bboxes_3d`` (rotated boxes, gravity centre)
        and ``gt_labels_3d``; labels not trained on are dropped."""
        instances = info.get("instances", [])
        boxes = np.array([i["bbox_3d"] for i in instances], dtype=np.float32).reshape(-1, 7)
        labels = self._map_label([i["bbox_label_3d"] for i in instances])
        keep = labels > -1
        for label in labels[keep]:
            self.num_ins_per_cat[label] += 1
        return dict(gt_bboxes_3d=_to_boxes(boxes[keep], self.box_mode_3d), gt_labels_3d=labels[keep])


@DATASETS.register_module()
class FractalSceneOnTheFlyDataset(_FractalClassesMixin, Det3DDataset):
    """Fractal scenes built inside the data pipeline: nothing on disk.

    Entry ``i`` is scene ``start_index + i`` of ``scene_builder.make_scene``
    under ``seed``; its pipeline must start with ``LoadFractalScene``, which
    builds the points, boxes, labels (and masks) of that scene. Hold out scenes
    for validation with a ``start_index`` past the training scenes (same seed)
    or with another seed.

    Args:
        category_file (str): the category file (``categories.json`` or its
            folder), made by ``build_pcfractal.py categories``.
        num_scenes (int): number of scenes.
        seed (int): the scenes' seed. Defaults to 0.
        start_index (int): index of the first scene. Defaults to 0.
        scene_settings (dict, optional): keyword arguments of
            ``scene_builder.SceneSettings`` (tuples may be lists). Defaults
            to its defaults (PCFRACTALDB.md).
        instance_settings (dict, optional): keyword arguments of
            ``pcfractal.pointclouds.instances.InstanceSettings`` (points per object,
            FractalNoiseMix ratio, weight table). Defaults to its defaults.
        metainfo (dict, optional): ``classes`` to train on, by name. Defaults
            to one class per category of the file.
        pipeline (list): the data pipeline, ``LoadFractalScene`` first.
        class_mode (str, optional): ``'category'`` or ``'object'``. Defaults
            to the scene settings' ``label_mode`` (``'category'``).
        box_type_3d (str): Defaults to ``'Depth'``.
        filter_empty_gt (bool): drop scenes whose boxes were all lost in the
            pipeline (only checked after it). Defaults to False.
        test_mode (bool): Defaults to False; in test mode the pipeline also
            puts the ground truth in ``eval_ann_info`` for IndoorMetric.
        **kwargs: passed to ``Det3DDataset``.
    """

    METAINFO = dict(classes=())

    def __init__(
        self,
        category_file: str,
        num_scenes: int,
        seed: int = 0,
        start_index: int = 0,
        scene_settings: Optional[dict] = None,
        instance_settings: Optional[dict] = None,
        metainfo: Optional[dict] = None,
        pipeline: List[Union[dict, Callable]] = [],
        class_mode: Optional[str] = None,
        box_type_3d: str = "Depth",
        filter_empty_gt: bool = False,
        test_mode: bool = False,
        data_root: Optional[str] = None,
        **kwargs,
    ) -> None:
        if int(num_scenes) < 1:
            raise ValueError(f"num_scenes must be >= 1, got {num_scenes}")
        if int(start_index) < 0:
            raise ValueError(f"start_index must be >= 0, got {start_index}")
        if data_root is not None and not osp.isabs(category_file):
            category_file = osp.join(data_root, category_file)
        self.category_file = category_file
        self.num_scenes = int(num_scenes)
        self.seed = int(seed)
        self.start_index = int(start_index)
        self.scene_settings = dict(scene_settings or {})
        self.instance_settings = dict(instance_settings or {})
        if class_mode is None:
            class_mode = self.scene_settings.get("label_mode", "category")
        metainfo = self._setup_classes(fractal_class_names(_category_count(category_file)), metainfo, class_mode)
        super().__init__(
            data_root=data_root,
            ann_file="",
            metainfo=metainfo,
            pipeline=pipeline,
            modality=dict(use_lidar=True, use_camera=False),
            box_type_3d=box_type_3d,
            filter_empty_gt=filter_empty_gt,
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> List[dict]:
        """One small entry per scene: what ``LoadFractalScene`` needs."""
        label_map = None
        if self.class_mode == "category":
            label_map = np.array([self.label_mapping.get(i, -1) for i in range(len(self.source_classes))], dtype=np.int64)
        return [
            dict(
                sample_idx=i,
                fractal_scene=dict(
                    category_file=self.category_file,
                    index=self.start_index + i,
                    seed=self.seed,
                    settings=self.scene_settings,
                    instance_settings=self.instance_settings,
                    class_mode=self.class_mode,
                    label_map=label_map,
                    with_eval_ann=bool(self.test_mode and self.load_eval_anns),
                ),
            )
            for i in range(self.num_scenes)
        ]

    def parse_data_info(self, info: dict) -> dict:
        return info

    def prepare_data(self, index: int) -> Union[dict, None]:
        """Run the pipeline on a copy of the entry (no annotations exist
        before ``LoadFractalScene``)."""
        input_dict = copy.deepcopy(self.get_data_info(index))
        input_dict["box_type_3d"] = self.box_type_3d
        input_dict["box_mode_3d"] = self.box_mode_3d
        example = self.pipeline(input_dict)
        if not self.test_mode and self.filter_empty_gt and (example is None or len(example["data_samples"].gt_instances_3d.labels_3d) == 0):
            return None
        return example

    def get_cat_ids(self, idx: int):
        raise NotImplementedError(
            "FractalSceneOnTheFlyDataset knows a scene's labels only after "
            "building it; class-balanced sampling needs a written dataset "
            "(FractalSceneDataset)"
        )


@DATASETS.register_module()
class PCFractalDBInstanceDataset(BaseDataset):
    """PC-FractalDB instances for classification pre-training, built on the
    fly by ``LoadFractalInstance`` (FractalNoiseMix clouds, label = category).

    Entry ``i`` is instance ``start_instance + i % instances_per_category`` of
    category ``i // instances_per_category``, as made by
    ``pcfractal.pointclouds.instances.make_instance``. Hold out instances for validation
    with ``start_instance`` past the training ones.

    Args:
        category_file (str): the category file or its folder.
        instances_per_category (int): instances per category.
        seed (int): the instances' seed. Defaults to 0.
        start_instance (int): first instance index. Defaults to 0.
        num_categories (int, optional): use only the first categories.
            Defaults to all of the file (at least 2 are needed: FractalNoiseMix
            draws noise from another category).
        instance_settings (dict, optional): keyword arguments of
            ``pcfractal.pointclouds.instances.InstanceSettings``.
        pipeline (list): the data pipeline, ``LoadFractalInstance`` first.
        test_mode (bool): Defaults to False.
    """

    METAINFO = dict(classes=())

    def __init__(
        self,
        category_file: str,
        instances_per_category: int,
        seed: int = 0,
        start_instance: int = 0,
        num_categories: Optional[int] = None,
        instance_settings: Optional[dict] = None,
        pipeline: List[Union[dict, Callable]] = [],
        test_mode: bool = False,
        data_root: Optional[str] = None,
        **kwargs,
    ) -> None:
        if data_root is not None and not osp.isabs(category_file):
            category_file = osp.join(data_root, category_file)
        total = _category_count(category_file)
        num_categories = total if num_categories is None else int(num_categories)
        if not 2 <= num_categories <= total:
            raise ValueError(f"num_categories must be in [2, {total}] for {category_file}, got {num_categories}")
        if int(instances_per_category) < 1:
            raise ValueError(f"instances_per_category must be >= 1, got {instances_per_category}")
        self.category_file = category_file
        self.instances_per_category = int(instances_per_category)
        self.seed = int(seed)
        self.start_instance = int(start_instance)
        self.num_categories = num_categories
        self.instance_settings = dict(instance_settings or {})
        super().__init__(
            ann_file="",
            metainfo=dict(classes=fractal_class_names(num_categories)),
            data_root=data_root,
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> List[dict]:
        n = self.instances_per_category
        return [
            dict(
                sample_idx=i,
                fractal_instance=dict(
                    category_file=self.category_file,
                    num_categories=self.num_categories,
                    category=i // n,
                    index=self.start_instance + i % n,
                    seed=self.seed,
                    settings=self.instance_settings,
                ),
            )
            for i in range(self.num_categories * n)
        ]
