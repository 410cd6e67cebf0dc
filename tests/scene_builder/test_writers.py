"""The mmdet3d writer: files read back with the right dtypes, shapes and keys (the keys of
mmdet3d's own ScanNet infos), on-the-fly equals written, same bytes on 1 and 2 workers,
resume; the trimesh export reads back."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest

from scene_builder import SceneSettings, make_scene
from scene_builder.writers import mesh
from scene_builder.writers.mmdet3d import load_info, read_scene, split_counts, write_dataset

# What mmdet3d's ScanNet converter puts in an info file (checked against its test data).
SCANNET_ENTRY_KEYS = {"lidar_points", "instances", "pts_instance_mask_path", "pts_semantic_mask_path", "axis_align_matrix"}
SETTINGS = SceneSettings(base_objects=3, extra_objects_mean=2.0, instances_per_category=10)


def digests(root):
    """sha256 of every output file (the build's state folder .pcfractal/ excluded)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".pcfractal" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory, systems):
    root = tmp_path_factory.mktemp("w1")
    res = write_dataset(root, systems, 7, seed=3, settings=SETTINGS, val_fraction=0.3, workers=1)
    return root, res


def test_layout_keys_dtypes(written, systems):
    root, res = written
    assert res["n_train"] == 5 and res["n_val"] == 2
    train, val = load_info(root / "pcfractal_infos_train.pkl"), load_info(root / "pcfractal_infos_val.pkl")
    assert set(train) == {"metainfo", "data_list"}
    meta = train["metainfo"]
    assert meta["classes"] == tuple(f"fractal_{i:04d}" for i in range(len(systems)))
    assert meta["info_version"] == "1.1" and meta["dataset"] == "pcfractal_scenes"
    assert meta["seg_valid_class_ids"] == tuple(range(1, len(systems) + 1))
    assert meta["pcfractal"]["split"] == "train" and val["metainfo"]["pcfractal"]["split"] == "val"
    assert [e["sample_idx"] for e in train["data_list"]] == [0, 1, 2, 3, 4]
    assert [e["sample_idx"] for e in val["data_list"]] == [5, 6]
    for e in train["data_list"] + val["data_list"]:
        assert SCANNET_ENTRY_KEYS <= set(e)
        assert e["lidar_points"] == {"num_pts_feats": 3, "lidar_path": f"{e['sample_idx']:06d}.bin"}
        assert e["axis_align_matrix"] == np.eye(4).tolist()
        for inst in e["instances"]:
            assert len(inst["bbox_3d"]) == 7 and all(type(v) is float for v in inst["bbox_3d"])
            assert type(inst["bbox_label_3d"]) is int and 0 <= inst["bbox_label_3d"] < len(systems)
        arr = read_scene(root, e)
        n = len(e["instances"]) * 4000
        assert arr["points"].dtype == np.float32 and arr["points"].shape == (n, 3)
        assert arr["instance_mask"].dtype == np.int64 and arr["instance_mask"].shape == (n,)
        assert arr["semantic_mask"].dtype == np.int64 and arr["semantic_mask"].shape == (n,)
        assert (root / "points" / e["lidar_points"]["lidar_path"]).stat().st_size == n * 12
        assert (root / "instance_mask" / e["pts_instance_mask_path"]).stat().st_size == n * 8
    assert not list(root.rglob("*.partial"))


def test_on_the_fly_equals_written(written, systems):
    root, _ = written
    for e in load_info(root / "pcfractal_infos_val.pkl")["data_list"] + load_info(root / "pcfractal_infos_train.pkl")["data_list"][:2]:
        sc = make_scene(systems, e["sample_idx"], 3, SETTINGS)
        arr = read_scene(root, e)
        assert arr["points"].tobytes() == sc.points.tobytes()
        assert arr["instance_mask"].tobytes() == sc.instance_mask.tobytes()
        assert arr["semantic_mask"].tobytes() == sc.semantic_mask.tobytes()
        np.testing.assert_array_equal(arr["boxes"], sc.boxes)
        np.testing.assert_array_equal(arr["labels"], sc.labels)


@pytest.fixture
def small_chunks(monkeypatch):
    """Work units of 2 scenes (the stage's CHUNK is 16): 7 scenes -> 4 units."""
    from pcfractal.build.stages import scenes

    monkeypatch.setattr(scenes, "CHUNK", 2)


def test_same_bytes_on_1_and_2_workers(written, tmp_path, systems, small_chunks):
    root, _ = written  # one unit of 7 scenes, 1 worker
    two = tmp_path / "w2"
    write_dataset(two, systems, 7, seed=3, settings=SETTINGS, val_fraction=0.3, workers=2)
    assert (two / "manifest.json").is_file() and len(digests(two)) == len(digests(root)) > 20
    assert digests(two) == digests(root)


def test_resume_rebuilds_missing_scene(written, tmp_path, systems, small_chunks):
    root, _ = written
    again = tmp_path / "again"
    write_dataset(again, systems, 7, seed=3, settings=SETTINGS, val_fraction=0.3)
    others = {p: p.stat().st_mtime_ns for p in again.glob("*/*.bin") if p.name not in ("000004.bin", "000005.bin")}
    (again / "points" / "000004.bin").unlink()
    (again / "pcfractal_infos_train.pkl").unlink()
    (again / "semantic_mask" / "000004.bin.1234abcd.partial").write_bytes(b"junk")  # a killed run's leftover
    write_dataset(again, systems, 7, seed=3, settings=SETTINGS, val_fraction=0.3)
    assert not (again / "semantic_mask" / "000004.bin.1234abcd.partial").exists()  # our leftover: removed
    assert {p: p.stat().st_mtime_ns for p in others} == others  # only the unit of scenes 4-5 was made again
    assert digests(again) == digests(root)


def test_without_masks(tmp_path, systems):
    write_dataset(tmp_path, systems, 2, seed=0, settings=SETTINGS, masks=False, prefix="demo")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".pcfractal",
        "build_config.json",
        "demo_infos_train.pkl",
        "demo_infos_val.pkl",
        "manifest.json",
        "points",
        "scenes.json",
    ]
    e = load_info(tmp_path / "demo_infos_train.pkl")["data_list"][0]
    assert "pts_instance_mask_path" not in e and e["pcfractal"]["num_pts_per_instance"] == 4000


def test_object_label_mode(tmp_path, systems):
    write_dataset(tmp_path, systems, 2, seed=0, settings=SceneSettings(label_mode="object", base_objects=2, extra_objects_mean=0))
    info = load_info(tmp_path / "pcfractal_infos_train.pkl")
    assert info["metainfo"]["classes"] == ("object",)
    assert {i["bbox_label_3d"] for e in info["data_list"] for i in e["instances"]} == {0}


@pytest.mark.parametrize("count", [0, -1, 2.5])
def test_bad_count_writes_nothing(tmp_path, systems, count):
    with pytest.raises(ValueError, match="scene count"):
        write_dataset(tmp_path / "x", systems, count, seed=0)
    assert not (tmp_path / "x").exists()


def test_pickle_is_plain_python(written):
    root, _ = written
    raw = (root / "pcfractal_infos_train.pkl").read_bytes()
    assert b"numpy" not in raw  # loads without numpy-version coupling
    pickle.loads(raw)


@pytest.mark.parametrize("suffix", [".glb", ".ply"])
def test_mesh_export_reads_back(tmp_path, systems, suffix):
    trimesh = pytest.importorskip("trimesh")
    sc = make_scene(systems, 0, 0, SETTINGS)
    path = mesh.export_scene(tmp_path / f"s{suffix}", sc)
    loaded = trimesh.load(path, process=False)
    if suffix == ".glb":
        pts = loaded.geometry["points"]
        assert len(pts.vertices) == len(sc.points)
        np.testing.assert_allclose(np.asarray(pts.vertices), sc.points, atol=1e-5)
        assert len(loaded.geometry["boxes"].vertices) == sc.num_objects * 24
    else:
        assert len(loaded.vertices) == len(sc.points) + sc.num_objects * 12 * 8
        np.testing.assert_allclose(np.asarray(loaded.vertices[: len(sc.points)]), sc.points, atol=1e-5)
        assert len(loaded.faces) == sc.num_objects * 12 * 12
    with pytest.raises(ValueError, match=".glb or .ply"):
        mesh.export_scene(tmp_path / "s.obj", sc)


def test_split_counts():
    assert split_counts(10_000, 0.1) == (9000, 1000)
    assert split_counts(6, 0.1) == (5, 1)
    assert split_counts(5, 0.1) == (4, 1)  # a positive fraction keeps one val scene
    assert split_counts(1, 0.1) == (1, 0)  # ... but never the only train scene
    assert split_counts(4, 0.0) == (4, 0)
    with pytest.raises(ValueError):
        split_counts(4, 1.0)
