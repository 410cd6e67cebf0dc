"""Galleries (labelled, several samples per class, depth shading), stats.md (every variance
in the histogram, readable floats), the dataset card, and PLY files read back by Open3D,
trimesh and a plain parser."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pcfractal.images import gallery, get_generator
from pcfractal.io.card import dataset_card, size_category
from pcfractal.io.ply import ply_bytes, write_ply
from pcfractal.pointclouds import report


@pytest.fixture(scope="module")
def rcdb():
    gen = get_generator("rcdb")
    settings = gen.settings("tiny", size=32)
    return gen, settings, gen.make_classes(3, 0, settings)


def test_image_gallery_shows_each_class_images_as_rendered(rcdb):
    gen, settings, classes = rcdb
    img = gallery.image_gallery(gen, classes, 0, settings, max_classes=3, per_class=2, tile=32)
    assert img.dtype == np.uint8 and img.ndim == 3
    gap, caption = 3 * gallery.PAD, 2 * gallery.LINE_HEIGHT + gallery.PAD
    cell_w, cell_h = 2 * 32 + gallery.PAD, caption + 32
    columns = (img.shape[1] - gap) // (cell_w + gap)
    for c in range(3):
        r, col = divmod(c, columns)
        y0, x0 = gap + r * (cell_h + gap) + caption, gap + col * (cell_w + gap)
        for i in range(2):
            want = gen.render(classes.params[c], c, i, 0, settings)
            got = img[y0 : y0 + 32, x0 + i * (32 + gallery.PAD) : x0 + i * (32 + gallery.PAD) + 32, 0]
            assert np.array_equal(got, want), (c, i)
        strip = img[y0 - caption : y0 - gallery.PAD, x0 : x0 + cell_w]
        assert (strip != gallery.BACKGROUND).any(axis=-1).sum() > 20  # the caption is drawn


def test_class_facts_come_from_the_origin():
    system = np.zeros((3, 12))
    assert gallery.class_facts(system, {"variances": [0.2, 0.31, 0.25]}) == ["3 maps", "var 0.20/0.31/0.25"]
    assert gallery.class_facts(np.zeros((4, 6)), {"filling_rate": 0.234}) == ["4 maps", "fill 0.23"]
    assert gallery.class_facts(np.zeros(7), {}) == []


def test_category_gallery_png_is_deterministic_and_labelled(tiny_systems):
    a = report.gallery_png(tiny_systems[:3], seed=1, size=48, variances=[[0.1, 0.2, 0.3]] * 3, instances=2)
    b = report.gallery_png(tiny_systems[:3], seed=1, size=48, variances=[[0.1, 0.2, 0.3]] * 3, instances=2)
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"
    img = report.gallery_image(tiny_systems[:3], seed=1, size=48, instances=2)
    assert img.shape[1] >= 3 * 48  # a category's cloud and two instances side by side
    assert report.category_caption(4, tiny_systems[0], [0.123, 0.2, 0.35]) == [
        f"#4  N={tiny_systems[0].shape[0]} maps",
        "var x/y/z 0.12/0.20/0.35",
    ]


def test_depth_tile_shades_near_points_brighter():
    # two points with the same screen position in the gallery view, one nearer the viewer
    view = report._VIEW
    near, far = view.T @ np.array([0.0, -1.0, 0.0]), view.T @ np.array([0.0, 1.0, 0.0])
    side = view.T @ np.array([[1.0, 0.0, 1.0], [-1.0, 0.0, -1.0]]).T  # frame the picture
    pts_near = np.vstack([near, side.T])
    pts_far = np.vstack([far, side.T])
    tn, tf = report.depth_tile(pts_near, 33), report.depth_tile(pts_far, 33)
    centre = (16, 16)
    assert tn[centre].astype(int).sum() > tf[centre].astype(int).sum() > 0


def test_stats_keep_large_variances_and_print_short_floats(tiny_systems):
    v = np.array([[0.05, 0.2, 0.4], [0.3, 0.5, 0.7], [0.9, 0.34, 0.1]])
    stats = report.category_stats(tiny_systems[:3], v, {"acceptance_rate": 0.0123456789})
    for axis in "xyz":
        h = stats["variance"][axis]["histogram"]
        assert sum(h["counts"]) == 3 and h["edges"][-1] >= v.max()
    md = report.stats_markdown("t", stats)
    assert not re.search(r"\d\.\d{6,}", md), md
    assert "0.01235" in md


def test_dataset_card_header_and_body():
    names = [f"{c:05d}" for c in range(12)]
    text = dataset_card(
        kind="exfractaldb",
        class_names=names,
        images_per_class=100,
        seed=3,
        settings={"size": 224},
        command="pcfractal images --kind exfractaldb",
        layout="both",
        image_size=224,
    )
    header, body = text.split("\n---\n", 1)
    assert header.startswith("---\nlicense: ")
    assert "task_categories:\n- image-classification" in header and "- 1K<n<10K" in header
    assert header.count('          "') == 12 and '"11": "00011"' in header
    assert 'path: "train/*/*.png"' in header and 'path: "shards/train-*.tar"' in header
    assert "seed: 3" in body and "pcfractal images --kind exfractaldb" in body and "Kataoka_2022_CVPR" in body
    assert size_category(999) == "n<1K" and size_category(1_000_000) == "1M<n<10M"
    with pytest.raises(ValueError):
        dataset_card(kind="rcdb", class_names=names, images_per_class=1, seed=0, settings={}, layout="tree")


def test_ply_reads_back_in_open3d_trimesh_and_by_hand(tmp_path):
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(500, 3)).astype(np.float16)
    colors = rng.integers(0, 256, size=(500, 3), dtype=np.uint8)
    path = write_ply(tmp_path / "a.ply", pts, colors)
    data = path.read_bytes()
    head, _, rest = data.partition(b"end_header\n")
    assert b"element vertex 500" in head
    rec = np.frombuffer(rest, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")])
    assert np.array_equal(np.stack([rec["x"], rec["y"], rec["z"]], 1), pts.astype(np.float32))
    o3d = pytest.importorskip("open3d")
    pcd = o3d.io.read_point_cloud(str(path))
    assert np.allclose(np.asarray(pcd.points), pts.astype(np.float32)) and np.allclose(np.asarray(pcd.colors) * 255, colors)
    trimesh = pytest.importorskip("trimesh")
    cloud = trimesh.load(path)
    assert np.allclose(np.asarray(cloud.vertices), pts.astype(np.float32))
    assert ply_bytes(pts).count(b"property") == 3
    with pytest.raises(ValueError):
        ply_bytes(np.zeros((4, 2)))


def test_missing_torch_extra_is_named():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys; sys.modules['torch'] = None; import pcfractal.torch_datasets"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root)
    assert proc.returncode == 1 and "pip install 'pcfractal[torch]'" in proc.stderr.strip().splitlines()[-1], proc.stderr
