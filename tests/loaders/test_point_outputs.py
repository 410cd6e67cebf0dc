"""Point-cloud outputs read the way their users read them: scenes as mmdetection3d's loaders
do (``np.fromfile`` float32 points and int64 masks, the infos pickle), instance PLY exports
with Open3D and trimesh. Independent of pcfractal's own readers."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from pcfractal.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("points")
    assert main(["categories", "--count", "3", "--threshold", "0.05", "--seed", "0", "--workers", "1", "--out", str(root / "cats")]) == 0
    assert (
        main(
            [
                "scenes",
                "--categories",
                str(root / "cats"),
                "--count",
                "3",
                "--base-objects",
                "3",
                "--extra-objects",
                "1",
                "--per-category",
                "10",
                "--seed",
                "1",
                "--workers",
                "1",
                "--out",
                str(root / "scenes"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "instances",
                "--categories",
                str(root / "cats"),
                "--per-category",
                "3",
                "--ply",
                "2",
                "--seed",
                "1",
                "--workers",
                "1",
                "--out",
                str(root / "insts"),
            ]
        )
        == 0
    )
    return root


def test_scenes_read_as_mmdet3d_reads_them(built):
    root = built / "scenes"
    infos = sorted(root.glob("*_infos_*.pkl"))
    assert {p.name.rsplit("_", 1)[1] for p in infos} == {"train.pkl", "val.pkl"}
    seen = 0
    for p in infos:
        with open(p, "rb") as f:
            info = pickle.load(f)
        meta = info["metainfo"]
        assert len(meta["classes"]) == 3
        for e in info["data_list"]:
            seen += 1
            feats = e["lidar_points"]["num_pts_feats"]
            pts = np.fromfile(root / "points" / e["lidar_points"]["lidar_path"], dtype=np.float32).reshape(-1, feats)
            inst = np.fromfile(root / "instance_mask" / e["pts_instance_mask_path"], dtype=np.int64)
            sem = np.fromfile(root / "semantic_mask" / e["pts_semantic_mask_path"], dtype=np.int64)
            assert len(pts) == len(inst) == len(sem) > 0
            boxes = np.array([i["bbox_3d"] for i in e["instances"]], dtype=np.float64)
            labels = [i["bbox_label_3d"] for i in e["instances"]]
            assert sorted(set(inst.tolist()) - {0}) == list(range(1, len(boxes) + 1))
            for k, (b, lab) in enumerate(zip(boxes, labels), start=1):
                own = pts[inst == k, :3].astype(np.float64) - b[:3]  # gravity centre
                c, s = np.cos(-b[6]), np.sin(-b[6])
                local = np.stack([c * own[:, 0] - s * own[:, 1], s * own[:, 0] + c * own[:, 1], own[:, 2]], 1)
                half = b[3:6] / 2
                assert np.all(np.abs(local) <= half + 1e-3), f"scene {e['sample_idx']} object {k} leaves its box"
                assert np.allclose(np.abs(local).max(0), half, atol=2e-3), f"scene {e['sample_idx']} object {k}: box not tight"
                assert set(sem[inst == k].tolist()) == {meta["seg_valid_class_ids"][lab]}
    assert seen == 3


def test_instance_ply_exports_open_in_open3d_and_trimesh(built):
    o3d = pytest.importorskip("open3d")
    trimesh = pytest.importorskip("trimesh")
    root = built / "insts"
    plys = sorted((root / "ply").glob("*.ply"))
    assert [p.name for p in plys] == [f"{c:06d}_{i:06d}.ply" for c in range(3) for i in range(2)]
    for p in plys:
        c, i = (int(x) for x in Path(p).stem.split("_"))
        want = np.load(root / f"{c:06d}.npy")[i].astype(np.float32)
        assert np.array_equal(np.asarray(o3d.io.read_point_cloud(str(p)).points, dtype=np.float32), want)
        assert np.array_equal(np.asarray(trimesh.load(p).vertices, dtype=np.float32), want)
