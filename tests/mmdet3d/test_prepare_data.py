"""tools/prepare_data.py: raw ScanNet scans and extracted SUN RGB-D frames ->
mmdet3d 1.4 info files, through mmdet3d's own converters from the installed wheel.

The raw inputs are written here in the release formats: a ScanNet scan folder
(binary PLY mesh with colours, ``.aggregation.json``, ``_vh_clean_2.0.010000.segs.json``,
the meta ``.txt`` with ``axisAlignment``, the label map .tsv, the split lists)
and a SUN RGB-D ``sunrgbd_trainval/`` as the MATLAB extraction writes it
(depth .mat holding ``instance``, image .jpg, calib .txt, label .txt, split
indices). The outputs are compared with values computed here from those inputs,
with the entry layout of mmdet3d's real samples (../shared/data/mmdet3d_samples),
and read back through mmdet3d's own ScanNetDataset / SUNRGBDDataset.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "data" / "mmdet3d_samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mmdet3d_data import SCANNET_CLASSES  # noqa: E402  (one list for every mmdet3d test)

SUNRGBD_CLASSES = ("bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night_stand", "bookshelf", "bathtub")
# raw category -> nyu40id, as rows of scannetv2-labels.combined.tsv
LABELS = {"office chair": 5, "table": 7, "wall": 1, "trash can": 39}
ALIGN = np.array(
    [[0.945519, 0.325568, 0.0, -5.38439], [-0.325568, 0.945519, 0.0, -2.87178], [0.0, 0.0, 1.0, -0.06435], [0.0, 0.0, 0.0, 1.0]]
)


def run_tool(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "prepare_data.py"), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# ---------------------------------------------------------------- ScanNet raw


def write_ply(path: Path, xyz, rgb, faces):
    """Binary little-endian PLY as ScanNet's _vh_clean_2.ply: x y z float,
    red green blue alpha uchar, faces as uchar-counted int lists."""
    v = np.zeros(
        len(xyz), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"), ("alpha", "u1")]
    )
    v["x"], v["y"], v["z"] = xyz.T
    v["red"], v["green"], v["blue"] = rgb.T
    v["alpha"] = 255
    f = np.zeros(len(faces), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    f["n"], f["i"] = 3, faces
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment VCGLIB generated\n"
        f"element vertex {len(xyz)}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    path.write_bytes(header.encode() + v.tobytes() + f.tobytes())


def write_scan(folder: Path, name: str, rng, with_labels=True):
    """One room: 3 labelled objects (2 segments each: office chair, table, wall)
    and unlabelled floor points. Returns the ground truth computed here."""
    d = folder / name
    d.mkdir(parents=True)
    objects = [
        ("office chair", [1.0, 1.0, 0.4], [0.5, 0.5, 0.8]),
        ("table", [2.5, 1.5, 0.35], [1.2, 0.8, 0.7]),
        ("wall", [0.0, 2.0, 1.2], [4.0, 0.1, 2.4]),
    ]
    xyz, seg, groups, obj_of, nyu = [], [], [], [], []
    seg_id = 7  # ScanNet segment ids are arbitrary integers
    for k, (label, centre, size) in enumerate(objects):
        segs = []
        for _ in range(2):
            p = np.asarray(centre) + (rng.random((40, 3)) - 0.5) * size
            xyz.append(p)
            seg += [seg_id] * len(p)
            obj_of += [k + 1] * len(p)
            nyu += [LABELS[label]] * len(p)
            segs.append(seg_id)
            seg_id += 13
        groups.append({"id": k, "objectId": k, "segments": segs, "label": label})
    floor = np.c_[rng.random((30, 2)) * 4, np.zeros(30)]
    xyz.append(floor)
    seg += [seg_id] * 30
    obj_of += [0] * 30
    nyu += [0] * 30
    xyz = np.concatenate(xyz).astype(np.float32)
    rgb = rng.integers(0, 256, (len(xyz), 3), dtype=np.uint8)
    faces = rng.integers(0, len(xyz), (50, 3))
    write_ply(d / f"{name}_vh_clean_2.ply", xyz, rgb, faces)
    (d / f"{name}_vh_clean_2.0.010000.segs.json").write_text(
        json.dumps({"params": {"kThresh": "0.0001", "segMinVerts": "20"}, "sceneId": name, "segIndices": seg})
    )
    meta = ["colorHeight = 968", "colorWidth = 1296"]
    if with_labels:
        (d / f"{name}.aggregation.json").write_text(
            json.dumps(
                {
                    "sceneId": f"scannet.{name}",
                    "appId": "Aggregator.v2",
                    "segGroups": groups,
                    "segmentsFile": f"scannet.{name}_vh_clean_2.0.010000.segs.json",
                }
            )
        )
        meta.append("axisAlignment = " + " ".join(f"{x:g}" for x in ALIGN.ravel()))
    meta.append("numColorFrames = 5578")
    (d / f"{name}.txt").write_text("\n".join(meta) + "\n")
    aligned = xyz.astype(np.float64) @ ALIGN[:3, :3].T + ALIGN[:3, 3]
    boxes = []
    for k, (label, _, _) in enumerate(objects):
        cls = {"office chair": "chair", "table": "table"}.get(label)
        if cls is None:
            continue  # wall: not a detection class
        p = aligned[np.asarray(obj_of) == k + 1]
        lo, hi = p.min(0), p.max(0)
        boxes.append(([*((lo + hi) / 2), *(hi - lo)], SCANNET_CLASSES.index(cls)))
    return dict(xyz=xyz, rgb=rgb, ins=np.asarray(obj_of), nyu=np.asarray(nyu), boxes=boxes)


def write_raw_scannet(root: Path, seed=0):
    rng = np.random.default_rng(seed)
    truth = {
        "scene0000_00": write_scan(root / "scans", "scene0000_00", rng),
        "scene0001_00": write_scan(root / "scans", "scene0001_00", rng),
        "scene0707_00": write_scan(root / "scans_test", "scene0707_00", rng, False),
    }
    rows = ["id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class"]
    rows += [f"{i + 1}\t{k}\t{k}\t10\t{v}\t0\t{k}\t{k}" for i, (k, v) in enumerate(LABELS.items())]
    (root / "scannetv2-labels.combined.tsv").write_text("\n".join(rows) + "\n")
    (root / "scannetv2_train.txt").write_text("scene0000_00\n")
    (root / "scannetv2_val.txt").write_text("scene0001_00\n")
    (root / "scannetv2_test.txt").write_text("scene0707_00\n")
    return truth


def _entry_layout(entry):
    """Keys of an info entry and of its first instance / image."""
    inst = entry.get("instances") or [{}]
    return (sorted(entry), sorted(inst[0]), sorted(entry.get("lidar_points", {})), sorted(entry.get("images", {}).get("CAM0", {})))


@pytest.fixture(scope="module")
def scannet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scannet")
    truth = write_raw_scannet(tmp / "raw")
    r = run_tool("scannet", tmp / "raw", tmp / "out", "--workers", 2, cwd=tmp)
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp / "out", truth, r


def test_scannet_points_masks_and_infos(scannet):
    out, truth, r = scannet
    assert "done" in r.stdout
    for name, t in truth.items():
        pts = np.fromfile(out / "points" / f"{name}.bin", np.float32).reshape(-1, 6)
        np.testing.assert_array_equal(pts[:, :3], t["xyz"])  # the raw (unaligned) frame
        np.testing.assert_array_equal(pts[:, 3:], t["rgb"])
    for name in ("scene0000_00", "scene0001_00"):
        ins = np.fromfile(out / "instance_mask" / f"{name}.bin", np.int64)
        sem = np.fromfile(out / "semantic_mask" / f"{name}.bin", np.int64)
        np.testing.assert_array_equal(ins, truth[name]["ins"])
        np.testing.assert_array_equal(sem, truth[name]["nyu"])
    assert not (out / "instance_mask" / "scene0707_00.bin").exists()
    assert (out / "seg_info" / "train_label_weight.npy").is_file()

    sample = pickle.load(open(SAMPLES / "scannet" / "scannet_infos.pkl", "rb"))["data_list"][0]
    for split, name in (("train", "scene0000_00"), ("val", "scene0001_00")):
        info = pickle.load(open(out / f"scannet_infos_{split}.pkl", "rb"))
        assert info["metainfo"]["dataset"] == "scannet"
        assert list(info["metainfo"]["categories"])[:18] == list(SCANNET_CLASSES)
        (e,) = info["data_list"]
        assert _entry_layout(e) == _entry_layout(sample)  # the real converter's layout
        assert e["lidar_points"] == {"lidar_path": f"{name}.bin", "num_pts_feats": 6}
        np.testing.assert_allclose(e["axis_align_matrix"], ALIGN)
        got = sorted((i["bbox_label_3d"], i["bbox_3d"]) for i in e["instances"])
        want = sorted((lab, box) for box, lab in truth[name]["boxes"])
        assert [g[0] for g in got] == [w[0] for w in want] == [2, 4]  # chair, table; no wall
        np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-5)
    test = pickle.load(open(out / "scannet_infos_test.pkl", "rb"))
    (e,) = test["data_list"]
    assert e["lidar_points"]["lidar_path"] == "scene0707_00.bin" and e.get("instances", []) == []  # test scans have no annotation


def test_scannet_output_reads_in_mmdet3d_dataset(scannet):
    """mmdet3d's ScanNetDataset + the VoteNet config's loading steps: after
    GlobalAlignment each object's points lie in its box."""
    from mmdet3d.datasets import ScanNetDataset
    from mmdet3d.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    from mmengine.registry import DefaultScope

    out, truth, _ = scannet
    pipeline = [
        dict(type="LoadPointsFromFile", coord_type="DEPTH", shift_height=False, load_dim=6, use_dim=[0, 1, 2]),
        dict(type="LoadAnnotations3D", with_bbox_3d=True, with_label_3d=True, with_mask_3d=True, with_seg_3d=True),
        dict(type="GlobalAlignment", rotation_axis=2),
        dict(type="PointSegClassMapping"),
    ]
    with DefaultScope.overwrite_default_scope("mmdet3d"):
        ds = ScanNetDataset(
            data_root=str(out), ann_file="scannet_infos_train.pkl", pipeline=pipeline, box_type_3d="Depth", filter_empty_gt=False
        )  # raw dict: no Pack3DDetInputs
        d = ds[0]
    pts = d["points"].tensor
    boxes = d["gt_bboxes_3d"]
    assert len(boxes) == 2 and sorted(d["gt_labels_3d"].tolist()) == [2, 4]
    ins = d["pts_instance_mask"]
    for b in range(len(boxes)):
        c, s = boxes.gravity_center[b].numpy(), boxes.dims[b].numpy()
        # the box's object: the instance whose points have this centre
        inside = np.all(np.abs(pts.numpy() - c) <= s / 2 + 1e-4, axis=1)
        obj = np.bincount(ins[inside]).argmax()
        assert np.all(inside[ins == obj]) and obj > 0


def test_scannet_resumes_and_reports_bad_input(scannet, tmp_path):
    out, _, _ = scannet
    from pcfractal.mmdet3d import prepare

    raw = tmp_path / "raw"
    write_raw_scannet(raw)
    logs = []
    # everything exported already: nothing to redo (OUT of the first run, same scans)
    prepare.export_scannet(raw, out, log=logs.append)
    assert "exporting 0 of 3 scans (3 already done)" in logs[0]
    # no split list: one line naming the files and where to get them
    (raw / "scannetv2_val.txt").unlink()
    r = run_tool("scannet", raw, tmp_path / "o1", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "scannetv2_val.txt" in r.stderr and prepare.SCANNET_SPLITS_URL in r.stderr
    # a label missing from the label map stops the run with the scan's name
    (raw / "scannetv2_val.txt").write_text("scene0001_00\n")
    tsv = raw / "scannetv2-labels.combined.tsv"
    tsv.write_text("\n".join(tsv.read_text().splitlines()[:-2]) + "\n")  # drops wall, trash can
    with pytest.raises(prepare.PrepareError, match="scene0000_00: label 'wall'"):
        prepare.export_scannet(raw, tmp_path / "o2")
    # a split naming a scan that is not there
    (raw / "scannetv2_train.txt").write_text("scene0000_00\nscene0099_00\n")
    with pytest.raises(prepare.PrepareError, match="scans/scene0099_00"):
        prepare.export_scannet(raw, tmp_path / "o3")


def test_numpy2_in1d_patch(monkeypatch):
    from pcfractal.mmdet3d import prepare

    if hasattr(np, "in1d"):
        monkeypatch.delattr(np, "in1d")
    assert prepare.numpy2_compat() == ["in1d"]
    a = np.array([[3, 1], [39, 2]])
    np.testing.assert_array_equal(np.in1d(a, [3, 39]), [True, False, True, False])
    np.testing.assert_array_equal(np.in1d(a, [3, 39], invert=True), [False, True, False, True])
    assert prepare.numpy2_compat() == []  # idempotent


def test_converters_do_not_take_our_tools_folder():
    """The converters come from mmdet3d's wheel, and `tools` is left as it was."""
    from pcfractal.mmdet3d import prepare

    before = sys.modules.get("tools")
    indoor, update = prepare.load_converters()
    assert ".mim" in indoor.__file__ and ".mim" in update.__file__
    assert sys.modules.get("tools") is before
    update.time.sleep(5)  # the pause before overwriting is gone (this returns at once)


# ---------------------------------------------------------------- SUN RGB-D


def write_sunrgbd_trainval(root: Path, seed=0):
    """Two frames as the MATLAB extraction writes them. Returns their truth."""
    import cv2
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    tv = root / "sunrgbd_trainval"
    for sub in ("depth", "image", "calib", "label"):
        (tv / sub).mkdir(parents=True)
    truth = {}
    for idx in (1, 2):
        pts = np.c_[rng.random((3000, 3)) * [4, 5, 2], rng.random((3000, 3))].astype(np.float32)
        savemat(tv / "depth" / f"{idx:06d}.mat", {"instance": pts})
        h, w = 53 + idx, 73
        cv2.imwrite(str(tv / "image" / f"{idx:06d}.jpg"), rng.integers(0, 255, (h, w, 3), np.uint8))
        rt = np.linalg.qr(rng.normal(size=(3, 3)))[0]
        k = np.array([[518.8, 0, 284.6], [0, 519.5, 208.7], [0, 0, 1]])
        (tv / "calib" / f"{idx:06d}.txt").write_text(
            " ".join(f"{x:.6f}" for x in rt.ravel(order="F")) + "\n" + " ".join(f"{x:g}" for x in k.ravel(order="F")) + "\n"
        )
        rt = np.array([[float(f"{x:.6f}") for x in row] for row in rt])
        objs = [
            ("chair", (10, 20, 30, 40), (1.0, 4.1, -0.2), (0.3, 0.25, 0.45), (0.6, -0.8)),
            ("lamp", (1, 2, 3, 4), (0.5, 3.0, 0.1), (0.1, 0.1, 0.2), (1.0, 0.0)),
            ("night_stand", (50, 60, 20, 25), (-1.2, 3.5, -0.6), (0.25, 0.2, 0.3), (0.0, 1.0)),
        ]
        lines = [f"{c} {b[0]} {b[1]} {b[2]} {b[3]} " + " ".join(f"{x:f}" for x in (*ce, *co, *o)) for c, b, ce, co, o in objs]
        (tv / "label" / f"{idx:06d}.txt").write_text("\n".join(lines) + "\n")
        flip = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
        truth[idx] = dict(
            pts=pts,
            hw=(h, w),
            depth2img=k @ (flip @ rt.T),
            instances=[
                (
                    SUNRGBD_CLASSES.index(c),
                    [*ce, 2 * co[1], 2 * co[0], 2 * co[2], np.arctan2(o[1], o[0])],
                    [b[0], b[1], b[0] + b[2], b[1] + b[3]],
                )
                for c, b, ce, co, o in objs
                if c in SUNRGBD_CLASSES
            ],
        )
    (tv / "train_data_idx.txt").write_text("1\n")
    (tv / "val_data_idx.txt").write_text("2\n")
    return truth


def test_sunrgbd_after_extraction(tmp_path):
    truth = write_sunrgbd_trainval(tmp_path / "raw")
    r = run_tool("sunrgbd", tmp_path / "raw", tmp_path / "out", "--workers", 1, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "out"
    assert (out / "sunrgbd_trainval" / "image" / "000001.jpg").is_file()  # linked for the configs
    sample = pickle.load(open(SAMPLES / "sunrgbd" / "sunrgbd_infos.pkl", "rb"))["data_list"][0]
    for split, idx in (("train", 1), ("val", 2)):
        t = truth[idx]
        pts = np.fromfile(out / "points" / f"{idx:06d}.bin", np.float32).reshape(-1, 6)
        assert pts.shape == (50000, 6)  # mmdet3d's subsample (with replacement: 3,000 here)
        src = {tuple(p) for p in t["pts"].tolist()}
        assert all(tuple(p) in src for p in pts[:500].tolist())
        info = pickle.load(open(out / f"sunrgbd_infos_{split}.pkl", "rb"))
        assert info["metainfo"]["dataset"] == "sunrgbd"
        (e,) = info["data_list"]
        assert _entry_layout(e) == _entry_layout(sample)
        assert e["lidar_points"] == {"lidar_path": f"{idx:06d}.bin", "num_pts_feats": 6}
        cam = e["images"]["CAM0"]
        assert cam["img_path"] == f"{idx:06d}.jpg" and (cam["height"], cam["width"]) == t["hw"]
        np.testing.assert_allclose(cam["depth2img"], t["depth2img"], rtol=1e-5, atol=1e-3)
        assert [i["bbox_label_3d"] for i in e["instances"]] == [lab for lab, _, _ in t["instances"]]
        np.testing.assert_allclose([i["bbox_3d"] for i in e["instances"]], [b for _, b, _ in t["instances"]], atol=1e-5)
        assert [i["bbox"] for i in e["instances"]] == [b2 for _, _, b2 in t["instances"]]

    from mmdet3d.datasets import SUNRGBDDataset
    from mmdet3d.utils import register_all_modules
    from mmengine.registry import DefaultScope

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope("mmdet3d"):
        ds = SUNRGBDDataset(
            data_root=str(out),
            ann_file="sunrgbd_infos_train.pkl",
            pipeline=[dict(type="LoadPointsFromFile", coord_type="DEPTH", load_dim=6, use_dim=[0, 1, 2]), dict(type="LoadAnnotations3D")],
            filter_empty_gt=False,
        )
        d = ds[0]
    assert d["points"].tensor.shape == (50000, 3) and d["gt_labels_3d"].tolist() == [3, 7]
    np.testing.assert_allclose(d["gt_bboxes_3d"].gravity_center.numpy(), [b[:3] for _, b, _ in truth[1]["instances"]], atol=1e-5)


def test_sunrgbd_without_extraction_says_so(tmp_path):
    (tmp_path / "raw" / "OFFICIAL_SUNRGBD").mkdir(parents=True)
    r = run_tool("sunrgbd", tmp_path / "raw", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "run the SUN RGB-D extraction" in r.stderr
