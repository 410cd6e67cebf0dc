"""Prepare ScanNetV2 and SUN RGB-D for mmdetection3d 1.4 with mmdet3d's own converters.

mmdet3d's data preparation is ``tools/create_data.py`` in its repository. The
wheel ships that script and ``tools/dataset_converters/`` (``indoor_converter``,
``scannet_data_utils``, ``sunrgbd_data_utils``, ``update_infos_to_v2``) under
``mmdet3d/.mim/tools``, but not the raw-scan export of ScanNet
(``data/scannet/batch_load_scannet_data.py``) nor the MATLAB extraction of
SUN RGB-D. Run as documented upstream the converters need ``PYTHONPATH=.`` in a
checkout, and the ScanNet export calls ``np.in1d``, which numpy 2.4 removed.

This module:

* imports the converters from the installed wheel under their own package name
  ``tools.dataset_converters`` (a private ``tools`` package pointing at
  ``mmdet3d/.mim/tools``, so our repository's ``tools/`` folder cannot shadow
  it), and runs the same calls as ``create_data.py scannet`` / ``sunrgbd``:
  ``indoor_converter.create_indoor_info_file`` then
  ``update_infos_to_v2.update_pkl_infos`` per split;
* patches at run time, never in site-packages: ``np.in1d`` (as ``np.isin`` on
  the flattened input) where numpy lacks it, and the 5-second ``time.sleep``
  that ``update_pkl_infos`` inserts before overwriting every info file;
* replaces the missing ScanNet raw-scan export with :func:`export_scannet_scan`,
  which writes the files ``ScanNetData`` reads
  (``scannet_instance_data/<scan>_{vert,sem_label,ins_label,unaligned_bbox,
  aligned_bbox,axis_align_matrix}.npy``) with the same contents and dtypes as
  mmdet3d 1.4's ``batch_load_scannet_data.py`` (defaults: every point kept, no
  "don't care" classes, boxes of the 18 benchmark NYU40 ids kept). Unlike that
  script, a scan that fails to export stops the run with its name instead of
  being skipped with a printed line.

SUN RGB-D's first stage (MATLAB scripts of mmdet3d's ``data/sunrgbd/matlab``:
depth -> points, labels, calibration, split) is not re-implemented; see
docs/TRAINING.md for running it under GNU Octave. :func:`prepare_sunrgbd`
starts from its output (``sunrgbd_trainval/``).
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import json
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

# The 18 NYU40 ids of the ScanNet detection benchmark (mmdet3d's
# batch_load_scannet_data.OBJ_CLASS_IDS, and ScanNetData.cat_ids).
SCANNET_OBJ_CLASS_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
SCANNET_SPLITS_URL = "https://github.com/ScanNet/ScanNet/tree/master/Tasks/Benchmark"
SCANNET_LABEL_MAP = "scannetv2-labels.combined.tsv"


class PrepareError(RuntimeError):
    """A problem with the user's input, reported as one line."""


# ----------------------------------------------------------------------------
# mmdet3d's converters, imported from the wheel, with the run-time fixes


def numpy2_compat():
    """Give numpy >= 2.4 the ``np.in1d`` that older converters call (the same
    result: ``isin`` of the flattened input). Returns the names added."""
    added = []
    if not hasattr(np, "in1d"):

        def in1d(ar1, ar2, assume_unique=False, invert=False, **kw):
            return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert, **kw)

        np.in1d = in1d
        added.append("in1d")
    return added


def mmdet3d_tools_dir() -> Path:
    """``mmdet3d/.mim/tools`` of the installed mmdet3d wheel."""
    try:
        import mmdet3d
    except ImportError as e:
        raise PrepareError(f"mmdet3d is not importable ({e}); install it with bash scripts/install_mmdet3d.sh")
    tools = Path(mmdet3d.__file__).parent / ".mim" / "tools"
    if not (tools / "dataset_converters" / "indoor_converter.py").is_file():
        raise PrepareError(f"mmdet3d {mmdet3d.__version__} has no converters under {tools}")
    return tools


def load_converters():
    """Import ``indoor_converter`` and ``update_infos_to_v2`` from the installed
    mmdet3d as ``tools.dataset_converters.*`` and return them.

    The converters import each other as ``tools.dataset_converters.X``;
    ``tools`` is bound, for the import, to a package object whose path is the
    wheel's ``tools`` folder (whatever ``tools`` was importable before is put
    back afterwards). update_infos_to_v2's pause before overwriting a file is
    removed.
    """
    numpy2_compat()
    tools_dir = mmdet3d_tools_dir()
    saved = {k: v for k, v in sys.modules.items() if k == "tools" or k.startswith("tools.")}
    for k in saved:
        del sys.modules[k]
    pkg = types.ModuleType("tools")
    pkg.__path__ = [str(tools_dir)]
    sys.modules["tools"] = pkg
    try:
        indoor = importlib.import_module("tools.dataset_converters.indoor_converter")
        update = importlib.import_module("tools.dataset_converters.update_infos_to_v2")
    except ImportError as e:
        raise PrepareError(f"mmdet3d's converters do not import: {e}")
    finally:
        for k in [k for k in sys.modules if k == "tools" or k.startswith("tools.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    # update_pkl_infos sleeps 5 s before overwriting an info file in place,
    # which create_data.py always does; the module's own `time` is replaced.
    import time as _time

    quiet = types.ModuleType("time")
    quiet.__dict__.update(_time.__dict__)
    quiet.sleep = lambda seconds: None
    update.time = quiet
    return indoor, update


# ----------------------------------------------------------------------------
# ScanNetV2: raw scans -> scannet_instance_data/*.npy (batch_load's output)


def read_label_map(path) -> dict:
    """raw_category -> nyu40id from ``scannetv2-labels.combined.tsv``."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "raw_category" not in rows[0] or "nyu40id" not in rows[0]:
        raise PrepareError(f"{path}: not a ScanNet label map (needs the columns raw_category, nyu40id)")
    return {r["raw_category"]: int(r["nyu40id"]) for r in rows}


def read_mesh_vertices_rgb(path) -> np.ndarray:
    """float32 (N, 6): x y z red green blue (0-255) of the mesh's vertices."""
    from plyfile import PlyData

    v = PlyData.read(str(path))["vertex"].data
    out = np.empty((len(v), 6), np.float32)
    for i, name in enumerate(("x", "y", "z", "red", "green", "blue")):
        out[:, i] = v[name]
    return out


def read_axis_alignment(path) -> np.ndarray:
    """The 4x4 ``axisAlignment`` of a scan's meta file; identity when absent
    (the test scans have none)."""
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "axisAlignment":
            vals = [float(x) for x in value.split()]
            if len(vals) != 16:
                raise PrepareError(f"{path}: axisAlignment has {len(vals)} numbers, not 16")
            return np.array(vals, np.float64).reshape(4, 4)
    return np.eye(4)


def _boxes(vertices, instance_ids, object_ids, object_label):
    """(K, 7) float64 rows (cx, cy, cz, dx, dy, dz, nyu40id), row obj_id - 1,
    the axis-aligned box of the object's vertices (zeros for an object without
    vertices), as mmdet3d's ``extract_bbox``."""
    boxes = np.zeros((len(object_ids), 7))
    for obj_id in object_ids:
        pts = vertices[instance_ids == obj_id, :3]
        if len(pts) == 0:
            continue
        lo, hi = pts.min(0), pts.max(0)
        boxes[obj_id - 1] = [*((lo + hi) / 2), *(hi - lo), object_label[obj_id]]
    return boxes


def export_scannet_scan(scan_dir, label_map, test_mode=False) -> dict:
    """The arrays mmdet3d's ScanNet export writes for one scan.

    Reads ``<scan>_vh_clean_2.ply``, ``<scan>.txt`` and, unless ``test_mode``,
    ``<scan>.aggregation.json`` and ``<scan>_vh_clean_2.0.010000.segs.json``.
    Returns ``vert`` (float32 (N, 6), the unaligned mesh vertices with colour)
    and, for labelled scans, ``sem_label`` / ``ins_label`` (uint32 per vertex:
    NYU40 id; object id + 1, 0 = none), ``unaligned_bbox`` / ``aligned_bbox``
    (float64 (K, 7), only the 18 benchmark classes; the aligned boxes are those
    of the vertices moved by the axis alignment) and ``axis_align_matrix``.
    """
    scan_dir = Path(scan_dir)
    name = scan_dir.name
    vert = read_mesh_vertices_rgb(scan_dir / f"{name}_vh_clean_2.ply")
    out = {"vert": vert}
    if test_mode:
        return out
    align = read_axis_alignment(scan_dir / f"{name}.txt")
    homog = np.concatenate([vert[:, :3].astype(np.float64), np.ones((len(vert), 1))], 1)
    aligned = np.concatenate([(homog @ align.T)[:, :3], vert[:, 3:]], 1)

    agg = json.loads((scan_dir / f"{name}.aggregation.json").read_text())
    seg_indices = np.asarray(json.loads((scan_dir / f"{name}_vh_clean_2.0.010000.segs.json").read_text())["segIndices"])
    if len(seg_indices) != len(vert):
        raise PrepareError(f"{name}: {len(seg_indices)} segment indices for {len(vert)} vertices")
    # vertices of each segment id
    order = np.argsort(seg_indices, kind="stable")
    seg_ids, starts = np.unique(seg_indices[order], return_index=True)
    seg_verts = dict(zip(seg_ids.tolist(), np.split(order, starts[1:])))

    sem = np.zeros(len(vert), np.uint32)
    ins = np.zeros(len(vert), np.uint32)
    groups = agg["segGroups"]
    # semantic labels first, label by label in order of first appearance (as
    # mmdet3d's export: a segment in two groups takes the later label's id)
    label_segs = {}
    for g in groups:
        if g["label"] not in label_map:
            raise PrepareError(f"{name}: label '{g['label']}' is not in {SCANNET_LABEL_MAP}")
        label_segs.setdefault(g["label"], []).extend(g["segments"])
    for label, segs in label_segs.items():
        for s in segs:
            sem[seg_verts[s]] = label_map[label]
    object_label = {}
    for g in groups:
        obj = g["objectId"] + 1
        for s in g["segments"]:
            v = seg_verts[s]
            ins[v] = obj
            object_label.setdefault(obj, sem[v][0])
    object_ids = sorted({g["objectId"] + 1 for g in groups})
    if object_ids and object_ids[-1] != len(object_ids):
        raise PrepareError(f"{name}: object ids are not 0..{len(object_ids) - 1}")
    unaligned = _boxes(vert, ins, object_ids, object_label)
    aligned_b = _boxes(aligned, ins, object_ids, object_label)
    keep = np.isin(aligned_b[:, -1], SCANNET_OBJ_CLASS_IDS)
    out.update(sem_label=sem, ins_label=ins, unaligned_bbox=unaligned[keep], aligned_bbox=aligned_b[keep], axis_align_matrix=align)
    return out


def _save_atomic(path: Path, array):
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def _export_one(args):
    scan_dir, label_map, test_mode, out_dir = args
    name = Path(scan_dir).name
    arrays = export_scannet_scan(scan_dir, label_map, test_mode)
    # the vertices last: their file marks a finished scan (resume)
    for key in [k for k in arrays if k != "vert"] + ["vert"]:
        _save_atomic(Path(out_dir) / f"{name}_{key}.npy", arrays[key])
    return name


def _find_split_file(raw: Path, split: str, splits_dir):
    fname = f"scannetv2_{split}.txt"
    places = ([Path(splits_dir)] if splits_dir else []) + [raw, raw / "meta_data", raw / "Tasks" / "Benchmark"]
    for p in places:
        if (p / fname).is_file():
            return p / fname
    return None


def scannet_splits(raw: Path, splits_dir=None) -> dict:
    """Scan names of the train, val and test splits.

    train and val come from ScanNet's ``scannetv2_{train,val}.txt`` (in
    ``splits_dir``, RAW, RAW/meta_data or RAW/Tasks/Benchmark); test from
    ``scannetv2_test.txt`` or, without it, the folders under RAW/scans_test
    (none: an empty test split)."""
    splits = {}
    for split in ("train", "val", "test"):
        f = _find_split_file(raw, split, splits_dir)
        if f is not None:
            splits[split] = [s.strip() for s in f.read_text().splitlines() if s.strip()]
        elif split == "test":
            test_dir = raw / "scans_test"
            splits[split] = sorted(p.name for p in test_dir.iterdir() if p.is_dir()) if test_dir.is_dir() else []
        else:
            raise PrepareError(
                f"no scannetv2_{split}.txt in {raw} (or meta_data/, or --splits): "
                f"get scannetv2_train.txt, scannetv2_val.txt, scannetv2_test.txt from {SCANNET_SPLITS_URL}"
            )
    return splits


def export_scannet(raw, out, workers=1, splits_dir=None, label_map_file=None, log=print):
    """Stage 1: every scan of the splits into OUT/scannet_instance_data, and
    the split lists into OUT/meta_data (what ScanNetData reads). Scans already
    exported are skipped. Returns the splits."""
    raw, out = Path(raw), Path(out)
    if not (raw / "scans").is_dir():
        raise PrepareError(f"{raw} has no scans/ folder (the ScanNet v2 download)")
    lm = Path(label_map_file) if label_map_file else raw / SCANNET_LABEL_MAP
    if not lm.is_file():
        raise PrepareError(f"no label map {lm}: ScanNet's download script fetches {SCANNET_LABEL_MAP} (or give --label-map)")
    label_map = read_label_map(lm)
    splits = scannet_splits(raw, splits_dir)
    jobs, missing = [], []
    inst = out / "scannet_instance_data"
    inst.mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        folder = raw / ("scans_test" if split == "test" else "scans")
        for n in names:
            if not (folder / n).is_dir():
                missing.append(f"{folder.name}/{n}")
            elif not (inst / f"{n}_vert.npy").is_file():
                jobs.append((str(folder / n), label_map, split == "test", str(inst)))
    if missing:
        raise PrepareError(f"{len(missing)} scans of the split lists are missing in {raw}, e.g. {missing[0]}")
    total = sum(len(v) for v in splits.values())
    log(f"[prepare scannet] exporting {len(jobs)} of {total} scans ({total - len(jobs)} already done) with {workers} worker(s)")
    done = 0
    try:
        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(workers) as ex:
                for _ in ex.map(_export_one, jobs, chunksize=1):
                    done += 1
                    if done % 100 == 0:
                        log(f"[prepare scannet] {done}/{len(jobs)} scans exported")
        else:
            for job in jobs:
                _export_one(job)
    except PrepareError:
        raise
    except Exception as e:  # a broken file: name it
        raise PrepareError(f"exporting a scan failed: {type(e).__name__}: {e}")
    meta = out / "meta_data"
    meta.mkdir(exist_ok=True)
    for split, names in splits.items():
        (meta / f"scannetv2_{split}.txt").write_text("".join(f"{n}\n" for n in names))
    return splits


@contextlib.contextmanager
def _quiet(enabled):
    """Silence the converters' per-sample prints (one line per scan)."""
    if not enabled:
        yield
        return
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        yield


def prepare_scannet(raw, out, workers=4, splits_dir=None, label_map_file=None, verbose=False, log=print):
    """``RAW`` (ScanNet v2: scans/, scans_test/, the label map, the split
    lists) -> ``OUT`` as ``create_data.py scannet`` writes it:
    ``scannet_infos_{train,val,test}.pkl``, ``points/``, ``instance_mask/``,
    ``semantic_mask/``, ``seg_info/`` (and the intermediate
    ``scannet_instance_data/``, ``meta_data/``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    indoor, update = load_converters()
    splits = export_scannet(raw, out, workers=workers, splits_dir=splits_dir, label_map_file=label_map_file, log=log)
    log("[prepare scannet] mmdet3d indoor_converter.create_indoor_info_file")
    written = []
    with _quiet(not verbose):
        indoor.create_indoor_info_file(str(out), "scannet", str(out), workers=workers)
        for split in ("train", "val", "test"):
            pkl = out / f"scannet_infos_{split}.pkl"
            if not splits[split]:  # update_pkl_infos fails on an empty split (NameError)
                pkl.unlink()
                continue
            update.update_pkl_infos("scannet", out_dir=str(out), pkl_path=str(pkl))
            written.append(pkl)
    for split in ("train", "val", "test"):
        if not splits[split]:
            log(f"[prepare scannet] no {split} scans: scannet_infos_{split}.pkl not written")
    return written


# ----------------------------------------------------------------------------
# SUN RGB-D: sunrgbd_trainval/ (the extraction's output) -> infos + points

SUNRGBD_TRAINVAL_PARTS = ("depth", "image", "calib", "label")


def find_sunrgbd_trainval(raw: Path) -> Path:
    """RAW/sunrgbd_trainval, or RAW itself when it is that folder."""
    for cand in (raw / "sunrgbd_trainval", raw):
        if (cand / "train_data_idx.txt").is_file():
            missing = [p for p in SUNRGBD_TRAINVAL_PARTS if not (cand / p).is_dir()]
            if missing:
                raise PrepareError(f"{cand} lacks {', '.join(missing)}/: run the extraction first")
            if not (cand / "val_data_idx.txt").is_file():
                raise PrepareError(f"{cand} has no val_data_idx.txt: run extract_split first")
            return cand
    raise PrepareError(
        f"no sunrgbd_trainval/train_data_idx.txt under {raw}: run the SUN RGB-D extraction (docs/TRAINING.md, MATLAB or GNU Octave) first"
    )


def prepare_sunrgbd(raw, out, workers=4, seed=0, verbose=False, log=print):
    """``RAW`` holding ``sunrgbd_trainval/`` (the MATLAB/Octave extraction's
    output) -> ``OUT`` as ``create_data.py sunrgbd`` writes it:
    ``sunrgbd_infos_{train,val}.pkl``, ``points/`` (50,000 points per frame,
    mmdet3d's random subsample, numpy's global generator seeded with ``seed``;
    bit-for-bit repeatable with ``workers=1``) and ``sunrgbd_trainval``
    (a link to RAW's when OUT is another folder: the configs read its images)."""
    raw, out = Path(raw).resolve(), Path(out)
    trainval = find_sunrgbd_trainval(raw)
    out.mkdir(parents=True, exist_ok=True)
    link = out / "sunrgbd_trainval"
    if link.resolve() != trainval.resolve():
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise PrepareError(f"{link} exists and is not {trainval}")
        link.symlink_to(trainval, target_is_directory=True)
    indoor, update = load_converters()
    n = {s: len((trainval / f"{s}_data_idx.txt").read_text().split()) for s in ("train", "val")}
    log(f"[prepare sunrgbd] mmdet3d indoor_converter.create_indoor_info_file: {n['train']} train, {n['val']} val frames")
    np.random.seed(seed)
    with _quiet(not verbose):
        indoor.create_indoor_info_file(str(out), "sunrgbd", str(out), workers=workers)
        for split in ("train", "val"):
            update.update_pkl_infos("sunrgbd", out_dir=str(out), pkl_path=str(out / f"sunrgbd_infos_{split}.pkl"))
    return [out / f"sunrgbd_infos_{s}.pkl" for s in ("train", "val")]
