"""Tiny data for the mmdetection3d tests, written in the real layouts.

* a category file (a real variance search at the authors' 0.05 threshold),
* fractal scenes written by ``scene_builder.writers.mmdet3d``,
* a ScanNetV2-format dataset and a SUN RGB-D-format dataset laid out the way
  mmdet3d's converters write them (``tools/create_data.py scannet`` /
  ``sunrgbd``; checked against mmdet3d's own samples): synthetic rooms of
  box-shaped objects, so a few iterations can start learning them.

ScanNet layout (``data_root``)::

    scannet_infos_{train,val}.pkl   {'metainfo': {'categories', 'dataset': 'scannet',
                                     'info_version'}, 'data_list': [...]}
    points/sceneXXXX_00.bin         float32 (N, 6) x y z r g b, in the raw scan frame
    instance_mask/sceneXXXX_00.bin  int64 (N,) instance id, 0 = none
    semantic_mask/sceneXXXX_00.bin  int64 (N,) NYU40 id (mapped to the 18 classes
                                    by PointSegClassMapping)

  entry: ``lidar_points {lidar_path, num_pts_feats: 6}``, ``pts_instance_mask_path``,
  ``pts_semantic_mask_path``, ``axis_align_matrix`` (4x4; points are axis-aligned
  by GlobalAlignment), ``instances [{bbox_3d: 6 numbers (aligned frame, gravity
  centre, no yaw), bbox_label_3d: 0..17}]``.

SUN RGB-D layout::

    sunrgbd_infos_{train,val}.pkl
    points/XXXXXX.bin                      float32 (N, 6) x y z r g b (depth frame)
    sunrgbd_trainval/image/XXXXXX.jpg

  entry: ``lidar_points``, ``images.CAM0 {img_path, height, width, depth2img}``,
  ``instances [{bbox_3d: 7 numbers (gravity centre, yaw), bbox_label_3d: 0..9,
  bbox: 2D box, bbox_label}]``.
"""

from __future__ import annotations

import pickle
import runpy
from pathlib import Path

import numpy as np

SCANNET_CLASSES = (
    "cabinet",
    "bed",
    "chair",
    "sofa",
    "table",
    "door",
    "window",
    "bookshelf",
    "picture",
    "counter",
    "desk",
    "curtain",
    "refrigerator",
    "showercurtrain",
    "toilet",
    "sink",
    "bathtub",
    "garbagebin",
)
SCANNET_NYU40_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
SUNRGBD_CLASSES = ("bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night_stand", "bookshelf", "bathtub")

# the tiny scenes of votenet_cfg/_base_/tiny.py (plain Python dicts)
_TINY = runpy.run_path(str(Path(__file__).resolve().parents[2] / "votenet_cfg" / "_base_" / "tiny.py"))
TINY_SCENE_SETTINGS = _TINY["tiny_scene_settings"]
TINY_INSTANCE_SETTINGS = _TINY["tiny_instance_settings"]


def write_categories(folder: Path, count: int = 4, seed: int = 0) -> Path:
    """A real category file: ``count`` systems of the variance search at the
    authors' threshold 0.05 (a second at most)."""
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.search import SearchSettings, search_categories

    res = search_categories(count, seed, SearchSettings(threshold=0.05))
    cats = CategorySet([c.params for c in res.categories], seed, {"threshold": 0.05})
    folder.mkdir(parents=True, exist_ok=True)
    return cats.save(folder / "categories.json")


def write_tiled_categories(folder: Path, count: int, real: int = 40, seed: int = 0) -> Path:
    """A category file of ``count`` systems made of ``real`` categories of a
    real variance search (threshold 0.05) repeated in order: a 1,000-class
    file in a second or two, for tests whose cost depends on the class
    count, not on which systems the classes are."""
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.search import SearchSettings, search_categories

    res = search_categories(min(real, count), seed, SearchSettings(threshold=0.05))
    params = [c.params for c in res.categories]
    params = [params[i % len(params)] for i in range(count)]
    folder.mkdir(parents=True, exist_ok=True)
    return CategorySet(params, seed, {"threshold": 0.05}).save(folder / "categories.json")


def write_fractal_scenes(
    root: Path, category_file: Path, count: int, seed: int = 0, val_fraction: float = 0.25, paper: bool = False
) -> dict:
    """Tiny fractal scenes (or, with ``paper``, scenes of the default, paper
    settings: 15 m rooms of ~20 objects x 4,000 points) through
    scene_builder's own mmdet3d writer."""
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.instances import InstanceSettings
    from scene_builder import SceneSettings
    from scene_builder.writers.mmdet3d import write_dataset

    systems = CategorySet.load(category_file).systems
    return write_dataset(
        root,
        systems,
        count,
        seed,
        SceneSettings() if paper else SceneSettings(**TINY_SCENE_SETTINGS),
        InstanceSettings() if paper else InstanceSettings(**TINY_INSTANCE_SETTINGS),
        val_fraction=val_fraction,
    )


def _box_surface_points(rng, size, n):
    """n points on the surface of an axis-aligned box of ``size`` centred at 0."""
    face = rng.integers(6, size=n)
    u = rng.uniform(-0.5, 0.5, size=(n, 3)) * size
    axis = face // 2
    sign = np.where(face % 2 == 0, -0.5, 0.5)
    u[np.arange(n), axis] = sign * size[axis]
    return u


def _room(rng, num_objects, class_sizes, points_per_object, with_yaw, room=4.0):
    """Objects of random classes on the floor of a room, non-overlapping.

    Returns points (P, 3), instance ids (P,) (1..K, 0 = floor), class index
    per point (-1 = floor), boxes (K, 7) gravity centre + yaw, labels (K,).
    """
    boxes, labels, pts, inst, cls = [], [], [], [], []
    for k in range(num_objects):
        for _ in range(100):
            label = int(rng.integers(len(class_sizes)))
            size = np.asarray(class_sizes[label]) * rng.uniform(0.9, 1.1, 3)
            centre = rng.uniform(-room / 2 + 0.8, room / 2 - 0.8, 2)
            if all(np.linalg.norm(centre - b[:2]) > (np.linalg.norm(size[:2]) + np.linalg.norm(b[3:5])) / 2 + 0.1 for b in boxes):
                break
        else:
            break
        yaw = float(rng.uniform(-np.pi, np.pi)) if with_yaw else 0.0
        local = _box_surface_points(rng, size, points_per_object)
        c, s = np.cos(yaw), np.sin(yaw)
        xyz = np.stack(
            [centre[0] + c * local[:, 0] - s * local[:, 1], centre[1] + s * local[:, 0] + c * local[:, 1], size[2] / 2 + local[:, 2]], 1
        )
        boxes.append(np.array([centre[0], centre[1], size[2] / 2, *size, yaw]))
        labels.append(label)
        pts.append(xyz)
        inst.append(np.full(points_per_object, len(boxes), np.int64))
        cls.append(np.full(points_per_object, label, np.int64))
    n_floor = points_per_object
    floor = np.concatenate([rng.uniform(-room / 2, room / 2, (n_floor, 2)), np.zeros((n_floor, 1))], 1)
    pts.append(floor)
    inst.append(np.zeros(n_floor, np.int64))
    cls.append(np.full(n_floor, -1, np.int64))
    return (
        np.concatenate(pts).astype(np.float32),
        np.concatenate(inst),
        np.concatenate(cls),
        np.array(boxes).reshape(-1, 7),
        np.array(labels, np.int64),
    )


def _with_rgb(rng, xyz):
    rgb = rng.uniform(0, 255, (len(xyz), 3)).astype(np.float32)
    return np.concatenate([xyz, rgb], 1).astype(np.float32)


def _write_infos(root: Path, dataset: str, classes, splits: dict) -> None:
    """``{dataset}_infos_{split}.pkl`` of each split's entries, with the
    metainfo mmdet3d's converters write."""
    meta = dict(categories={c: i for i, c in enumerate(classes)}, dataset=dataset, info_version="1.1")
    for split, data_list in splits.items():
        with open(root / f"{dataset}_infos_{split}.pkl", "wb") as f:
            pickle.dump(dict(metainfo=meta, data_list=data_list), f)


def write_scannet(root: Path, n_train: int = 4, n_val: int = 2, num_classes: int = 3, seed: int = 0) -> Path:
    """A tiny ScanNetV2 dataset in mmdet3d's converted layout (objects of the
    first ``num_classes`` ScanNet classes)."""
    rng = np.random.default_rng(seed)
    for d in ("points", "instance_mask", "semantic_mask"):
        (root / d).mkdir(parents=True, exist_ok=True)
    sizes = [(0.8, 0.8, 0.9), (1.9, 1.8, 1.2), (0.6, 0.6, 0.7), (1.4, 1.5, 0.8), (1.0, 1.1, 0.6)][:num_classes]
    splits = {"train": [], "val": []}
    for i in range(n_train + n_val):
        name = f"scene{i:04d}_00"
        xyz, inst, cls, boxes, labels = _room(rng, 4, sizes, 600, False)
        # the scan's own frame: the axis_align_matrix maps it to the boxes'
        theta = float(rng.uniform(-0.5, 0.5))
        shift = rng.uniform(-3, 3, 3)
        align = np.eye(4)
        align[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
        align[:3, 3] = shift
        raw = (np.linalg.inv(align) @ np.concatenate([xyz, np.ones((len(xyz), 1))], 1).T).T[:, :3]
        _with_rgb(rng, raw).tofile(root / "points" / f"{name}.bin")
        inst.astype(np.int64).tofile(root / "instance_mask" / f"{name}.bin")
        nyu = np.where(cls >= 0, np.array(SCANNET_NYU40_IDS)[np.maximum(cls, 0)], 2)
        nyu.astype(np.int64).tofile(root / "semantic_mask" / f"{name}.bin")
        entry = dict(
            lidar_points=dict(num_pts_feats=6, lidar_path=f"{name}.bin"),
            pts_instance_mask_path=f"{name}.bin",
            pts_semantic_mask_path=f"{name}.bin",
            axis_align_matrix=align.tolist(),
            instances=[dict(bbox_3d=[float(v) for v in b[:6]], bbox_label_3d=int(l)) for b, l in zip(boxes, labels)],
        )
        splits["train" if i < n_train else "val"].append(entry)
    _write_infos(root, "scannet", SCANNET_CLASSES, splits)
    return root


def write_sunrgbd(root: Path, n_train: int = 4, n_val: int = 2, num_classes: int = 3, seed: int = 1) -> Path:
    """A tiny SUN RGB-D dataset in mmdet3d's converted layout (rotated boxes
    of the first ``num_classes`` SUN RGB-D classes)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "points").mkdir(parents=True, exist_ok=True)
    (root / "sunrgbd_trainval" / "image").mkdir(parents=True, exist_ok=True)
    sizes = [(2.1, 1.6, 0.9), (0.8, 1.3, 0.7), (0.9, 1.9, 0.8), (0.6, 0.55, 0.8), (0.7, 0.45, 0.75)][:num_classes]
    splits = {"train": [], "val": []}
    for i in range(n_train + n_val):
        name = f"{i + 1:06d}"
        xyz, _, _, boxes, labels = _room(rng, 4, sizes, 600, True)
        xyz[:, 1] += 3.0  # in front of the camera, as SUN RGB-D's depth frame
        xyz[:, 2] -= 1.0
        boxes[:, 1] += 3.0
        boxes[:, 2] -= 1.0
        _with_rgb(rng, xyz).tofile(root / "points" / f"{name}.bin")
        Image.new("RGB", (64, 48), (128, 128, 128)).save(root / "sunrgbd_trainval" / "image" / f"{name}.jpg")
        entry = dict(
            lidar_points=dict(num_pts_feats=6, lidar_path=f"{name}.bin"),
            images=dict(
                CAM0=dict(img_path=f"{name}.jpg", height=48, width=64, depth2img=[[50.0, 0.0, 32.0], [0.0, -50.0, 24.0], [0.0, 0.0, 1.0]])
            ),
            instances=[
                dict(bbox=[0.0, 0.0, 10.0, 10.0], bbox_label=int(l), bbox_3d=[float(v) for v in b], bbox_label_3d=int(l))
                for b, l in zip(boxes, labels)
            ],
        )
        splits["train" if i < n_train else "val"].append(entry)
    _write_infos(root, "sunrgbd", SUNRGBD_CLASSES, splits)
    return root
