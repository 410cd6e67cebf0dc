"""Write scenes the way mmdetection3d 1.x reads an indoor (ScanNet-style) dataset.

Layout of a written dataset ``ROOT`` (``prefix`` defaults to "pcfractal")::

    ROOT/points/000000.bin           float32 (P, 3) xyz, raw little-endian, no header
    ROOT/instance_mask/000000.bin    int64 (P,): object k -> k + 1, floor/walls -> 0
    ROOT/semantic_mask/000000.bin    int64 (P,): label + 1, floor/walls -> 0 (unannotated)
    ROOT/pcfractal_infos_train.pkl   scenes 0 .. n_train - 1
    ROOT/pcfractal_infos_val.pkl     scenes n_train .. count - 1

Each info file is a pickled dict ``{"metainfo": ..., "data_list": [...]}`` (info_version
1.1, as mmdet3d's converters write):

- ``metainfo``: ``classes`` (tuple of names), ``categories`` ({name: label}),
  ``dataset`` "pcfractal_scenes", ``info_version`` "1.1", ``seg_valid_class_ids``
  (1 .. C) and ``seg_all_class_ids`` (1 .. C) for mmdet3d's ``seg_label_mapping``
  (0 -> C, ignored; label + 1 -> label), ``box_type_3d`` "Depth", and ``pcfractal``
  (seed, settings, split) for provenance.
- a ``data_list`` entry (one per scene, in index order)::

      {"sample_idx": 12,
       "lidar_points": {"num_pts_feats": 3, "lidar_path": "000012.bin"},
       "instances": [{"bbox_3d": [x, y, z, dx, dy, dz, yaw], "bbox_label_3d": 3}, ...],
       "pts_instance_mask_path": "000012.bin",
       "pts_semantic_mask_path": "000012.bin",
       "axis_align_matrix": 4x4 identity (list of lists),
       "pcfractal": {"categories": [...], "instances": [...], "num_pts_per_instance": 4000,
                     "num_background_pts": 0, "wanted": 21}}

  Paths are relative to the data_prefix folders, as in ScanNet's infos (data_prefix
  ``dict(pts="points", pts_instance_mask="instance_mask", pts_semantic_mask="semantic_mask")``).
  ``bbox_3d`` is the gravity centre with full sizes and yaw (load it as
  ``DepthInstance3DBoxes(..., origin=(0.5, 0.5, 0.5))``).

With ``masks=False`` no mask files are written and the entries carry no mask paths
(enough for VoteNet with_rot=True, whose vote targets come from the boxes); a dataset can
rebuild the masks from ``pcfractal`` (objects are contiguous, ``num_pts_per_instance`` each).

``Mmdet3dWriter`` is this format's ``SceneWriter``: the ``scenes`` build stage calls it per
scene and once at the end, and owns resume, hashing and the manifest.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from pcfractal import __version__
from pcfractal.pointclouds.instances import InstanceSettings

from ..compose import Scene, SceneSettings, class_names
from ._base import SceneWriter, register

INFO_VERSION = "1.1"
DATASET_NAME = "pcfractal_scenes"
NUM_PTS_FEATS = 3
POINTS_DIR, INSTANCE_DIR, SEMANTIC_DIR = "points", "instance_mask", "semantic_mask"
DATA_PREFIX = {"pts": POINTS_DIR, "pts_instance_mask": INSTANCE_DIR, "pts_semantic_mask": SEMANTIC_DIR}
IDENTITY_4X4 = [[1.0 if i == j else 0.0 for j in range(4)] for i in range(4)]
PICKLE_PROTOCOL = 4


def scene_name(index: int) -> str:
    """File stem of scene ``index`` ("000012")."""
    return f"{index:06d}"


def split_counts(count: int, val_fraction: float) -> tuple[int, int]:
    """(n_train, n_val): the last ``count * val_fraction`` scenes (rounded half up) are val,
    at least one when the fraction is positive and at least one train scene remains."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val fraction must be in [0, 1), got {val_fraction}")
    n_val = int(math.floor(count * val_fraction + 0.5))
    if val_fraction > 0:
        n_val = max(n_val, 1)
    n_val = max(0, min(n_val, count - 1))
    return count - n_val, n_val


def metainfo(classes: tuple[str, ...], provenance: dict | None = None) -> dict:
    """The ``metainfo`` dict of an info file."""
    c = len(classes)
    meta = {
        "classes": tuple(classes),
        "categories": {name: i for i, name in enumerate(classes)},
        "dataset": DATASET_NAME,
        "info_version": INFO_VERSION,
        "box_type_3d": "Depth",
        "seg_valid_class_ids": tuple(range(1, c + 1)),
        "seg_all_class_ids": tuple(range(1, c + 1)),
    }
    if provenance is not None:
        meta["pcfractal"] = provenance
    return meta


def info_entry(
    index: int,
    boxes: np.ndarray,
    labels: np.ndarray,
    categories,
    instances,
    n_points: int,
    n_background: int,
    wanted: int,
    masks: bool = True,
) -> dict:
    """A ``data_list`` entry (plain Python types only, so the pickle is deterministic)."""
    name = scene_name(index) + ".bin"
    entry = {
        "sample_idx": int(index),
        "lidar_points": {"num_pts_feats": NUM_PTS_FEATS, "lidar_path": name},
        "instances": [{"bbox_3d": [float(v) for v in b], "bbox_label_3d": int(lab)} for b, lab in zip(boxes, labels)],
    }
    if masks:
        entry["pts_instance_mask_path"] = name
        entry["pts_semantic_mask_path"] = name
    entry["axis_align_matrix"] = [list(r) for r in IDENTITY_4X4]
    entry["pcfractal"] = {
        "categories": [int(v) for v in categories],
        "instances": [int(v) for v in instances],
        "num_pts_per_instance": int(n_points),
        "num_background_pts": int(n_background),
        "wanted": int(wanted),
    }
    return entry


def canonical(obj):
    """A fresh copy of a plain-Python tree with every string interned.

    pickle writes a back-reference for an object it has already seen (by identity), so the
    same entries pickle to different bytes depending on which objects they share, e.g. when
    some came back from worker processes. Rebuilding every container and interning every
    string makes the sharing depend on the values only: same values, same bytes.
    """
    if isinstance(obj, str):
        return sys.intern(obj)
    if isinstance(obj, dict):
        return {canonical(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(canonical(v) for v in obj)
    return obj


def dumps_info(info: dict) -> bytes:
    """Deterministic pickle of an info dict (see ``canonical``)."""
    return pickle.dumps(canonical(info), protocol=PICKLE_PROTOCOL)


def info_paths(root: str | os.PathLike, prefix: str = "pcfractal") -> tuple[Path, Path]:
    root = Path(root)
    return root / f"{prefix}_infos_train.pkl", root / f"{prefix}_infos_val.pkl"


@register
class Mmdet3dWriter(SceneWriter):
    """Scenes as mmdetection3d 1.x reads ScanNet (see the module docstring)."""

    name = "mmdet3d"
    options = ("prefix", "masks", "val_fraction")

    def __init__(self, prefix: str = "pcfractal", masks: bool = True, val_fraction: float = 0.1):
        self.prefix, self.masks, self.val_fraction = prefix, bool(masks), float(val_fraction)

    def owns(self, rel: str, count: int) -> bool:
        d, _, name = rel.rpartition("/")
        if d in ((POINTS_DIR, INSTANCE_DIR, SEMANTIC_DIR) if self.masks else (POINTS_DIR,)):
            return name.endswith(".bin") and name[:-4].isdigit() and len(name) == 10 and int(name[:-4]) < count
        return rel in (f"{self.prefix}_infos_train.pkl", f"{self.prefix}_infos_val.pkl")

    def write_scene(self, w, scene: Scene) -> dict:
        name = scene_name(scene.index) + ".bin"
        if self.masks:
            w.write(f"{INSTANCE_DIR}/{name}", np.ascontiguousarray(scene.instance_mask, dtype="<i8").tobytes())
            w.write(f"{SEMANTIC_DIR}/{name}", np.ascontiguousarray(scene.semantic_mask, dtype="<i8").tobytes())
        w.write(f"{POINTS_DIR}/{name}", np.ascontiguousarray(scene.points, dtype="<f4").tobytes())
        n_bg = len(scene.points) - scene.num_objects * scene.n_points
        return info_entry(
            scene.index, scene.boxes, scene.labels, scene.categories, scene.instances, scene.n_points, n_bg, scene.wanted, self.masks
        )

    def finish(
        self,
        w,
        records,
        count: int,
        seed: int,
        settings: SceneSettings,
        instance_settings: InstanceSettings,
        n_categories: int,
        provenance: dict,
    ) -> dict:
        """The train/val info files from the scenes' entries (records)."""
        n_train, n_val = split_counts(count, self.val_fraction)
        entries = list(records)
        prov = {
            "pcfractal_version": __version__,
            "seed": int(seed),
            "count": int(count),
            "n_train": n_train,
            "n_val": n_val,
            "val_fraction": self.val_fraction,
            "masks": self.masks,
            "scene_settings": settings.to_dict(),
            "instance_settings": asdict(instance_settings),
            "data_prefix": dict(DATA_PREFIX) if self.masks else {"pts": POINTS_DIR},
            **(provenance or {}),
        }
        classes = class_names(n_categories, settings.label_mode)
        for part, split in ((entries[:n_train], "train"), (entries[n_train:], "val")):
            info = {"metainfo": metainfo(classes, {**prov, "split": split}), "data_list": part}
            w.write(f"{self.prefix}_infos_{split}.pkl", dumps_info(info))
        n_obj = sum(len(e["instances"]) for e in entries)
        n_pts = sum(len(e["instances"]) * instance_settings.n_points + e["pcfractal"]["num_background_pts"] for e in entries)
        return {
            "count": int(count),
            "n_train": n_train,
            "n_val": n_val,
            "objects": n_obj,
            "points": n_pts,
            "classes": len(classes),
            "train_info": f"{self.prefix}_infos_train.pkl",
            "val_info": f"{self.prefix}_infos_val.pkl",
        }


def write_dataset(
    root: str | os.PathLike,
    systems: list[np.ndarray],
    count: int,
    seed: int,
    settings: SceneSettings = SceneSettings(),
    instance_settings: InstanceSettings = InstanceSettings(),
    *,
    val_fraction: float = 0.1,
    prefix: str = "pcfractal",
    masks: bool = True,
    workers: int | None = 1,
    overwrite: bool = False,
    quiet: bool = True,
) -> dict:
    """Write scenes 0 .. count-1 and the train/val info files under ``root``: the
    ``scenes`` build stage for a library caller, with the same guarantees as the CLI
    (lock, resume byte for byte, manifest, verify).

    Args:
        root: output folder (created; a previous run of the same call resumes).
        systems: the category systems (list of (N, 12) float64), at least 2.
        count: number of scenes (>= 1). Scene i is ``make_scene(systems, i, seed, ...)``.
        settings, instance_settings: see ``SceneSettings`` and ``InstanceSettings``.
        val_fraction: share of scenes (the last ones) in the val split. Default 0.1.
        prefix: info file names ``{prefix}_infos_{train,val}.pkl``.
        masks: write the instance/semantic mask files (default True).
        workers: worker processes (output does not depend on it).

    Returns:
        The writer's summary: count, n_train, n_val, objects, points, classes, info names.

    Raises:
        pcfractal.build.BuildError / ValueError: bad settings, fewer than 2 categories, a
        folder holding something else (nothing is written).
    """
    from pcfractal.build import RunOptions, run_stage
    from pcfractal.build.progress import Log
    from pcfractal.build.stages.scenes import ScenesSettings, ScenesStage

    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"scene count must be a positive whole number, got {count!r}")
    # per_category: the caller's settings.instances_per_category (else the stage would put
    # the preset's in its place and scene i would not be make_scene(systems, i, seed, settings)).
    s = ScenesSettings(
        count=int(count),
        seed=seed,
        val_fraction=val_fraction,
        prefix=prefix,
        masks=masks,
        per_category=settings.instances_per_category,
        scene=settings,
        instance=instance_settings,
    )
    stage = ScenesStage(s, systems=systems)
    run_stage(stage, root, RunOptions(workers=workers or 0, overwrite=overwrite, log=Log(level=0 if quiet else 1)))
    return stage.written


def load_info(path: str | os.PathLike) -> dict:
    """Read an info .pkl (ours or mmdet3d's)."""
    with open(path, "rb") as f:
        return pickle.load(f)


def read_scene(root: str | os.PathLike, entry: dict, data_prefix: dict | None = None) -> dict:
    """Read one written scene back as arrays (points (P, F) float32, masks int64, boxes, labels)."""
    root = Path(root)
    pre = data_prefix or DATA_PREFIX
    f = entry["lidar_points"]["num_pts_feats"]
    out = {"points": np.fromfile(root / pre["pts"] / entry["lidar_points"]["lidar_path"], dtype="<f4").reshape(-1, f)}
    if "pts_instance_mask_path" in entry:
        out["instance_mask"] = np.fromfile(root / pre["pts_instance_mask"] / entry["pts_instance_mask_path"], dtype="<i8")
        out["semantic_mask"] = np.fromfile(root / pre["pts_semantic_mask"] / entry["pts_semantic_mask_path"], dtype="<i8")
    out["boxes"] = np.array([i["bbox_3d"] for i in entry["instances"]], dtype=np.float64).reshape(-1, 7)
    out["labels"] = np.array([i["bbox_label_3d"] for i in entry["instances"]], dtype=np.int64)
    return out
