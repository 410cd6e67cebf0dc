"""Same seed, same bytes: 1 and 2 local workers give identical files and manifests for
every builder (Ray: test_ray.py); golden hashes pin a tiny build, so a change of output is
a deliberate decision; the executors keep input order whatever the completion order."""

from __future__ import annotations

import hashlib
import time

import pytest

from pcfractal.build import executor
from pcfractal.io import manifest

from ._util import CATS, SMALL, assert_same_tree, run_main, tree


def test_categories_and_instances_1_and_2_workers(capsys, cats, small_ref, tmp_path):
    assert run_main(capsys, "categories", *CATS, "--workers", "2", "--out", tmp_path / "c")[0] == 0
    assert_same_tree(tmp_path / "c", cats)
    assert run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "2", "--out", tmp_path / "i")[0] == 0
    assert_same_tree(tmp_path / "i", small_ref)


@pytest.mark.slow
def test_scenes_and_images_1_and_2_workers(capsys, cats, tmp_path):
    scenes = ["scenes", "--categories", cats, "--count", "5", "--points", "500", "--seed", "2"]
    images = ["images", "--kind", "rcdb", "--count", "4", "--per-category", "5", "--size", "48", "--layout", "both", "--shard-size", "6"]
    for argv in (scenes, images):
        for w in (1, 2):
            code, _, err = run_main(capsys, *argv, "--workers", w, "--out", tmp_path / f"{argv[0]}{w}")
            assert code == 0, err
        assert_same_tree(tmp_path / f"{argv[0]}1", tmp_path / f"{argv[0]}2")
        assert manifest.verify(tmp_path / f"{argv[0]}1") == []


def test_image_shards_equal_whether_rendered_or_read_from_the_tree(capsys, tmp_path):
    base = ["images", "--kind", "rcdb", "--count", "3", "--per-category", "4", "--size", "40", "--shard-size", "5", "--workers", "1"]
    assert run_main(capsys, *base, "--layout", "both", "--out", tmp_path / "both")[0] == 0
    assert run_main(capsys, *base, "--layout", "shards", "--out", tmp_path / "shards")[0] == 0
    a, b = tree(tmp_path / "both"), tree(tmp_path / "shards")
    tars = sorted(k for k in b if k.endswith(".tar"))
    assert tars == [f"shards/train-{i:06d}.tar" for i in range(3)] and all(a[k] == b[k] for k in tars)
    assert a["shards/_info.json"] == b["shards/_info.json"]
    assert not any(k.startswith("train/") or k.endswith(".png") and k != "gallery.png" for k in b), (
        "--layout shards writes no loose image files"
    )
    assert sum(k.startswith("train/") and k.endswith(".png") for k in a) == 12


# Golden sha256 of a tiny build (categories: 4 at 0.05, seed 3; instances: 8 x 1,000 points,
# seed 5). If an intended change of the generator moves them, update them in the same commit
# and say so in its message.
# (The category file itself holds the package version, so its systems are hashed instead.)
GOLDEN = {
    "category systems": "e44893e65af358dabd876ac16f8e3d3a8a70abc89bf3e8722ad7ec5e6555e007",
    "000000.npy": "7fd060b31b4eb4409a0347323d7a3aad3f6ce92b0071f8abc42a9bf4a79c70f3",
    "000003.info.npy": "ff4706ffbc8f3bb5586371472fd3c0eeeb57392195a87a6b4a4a2aca1e420e66",
}


def test_golden_hashes(cats, small_ref):
    import numpy as np

    from pcfractal.pointclouds.category_file import CategorySet

    systems = CategorySet.load(cats).systems
    got = {
        "category systems": hashlib.sha256(b"".join(np.ascontiguousarray(s, dtype="<f8").tobytes() for s in systems)).hexdigest(),
        "000000.npy": hashlib.sha256((small_ref / "000000.npy").read_bytes()).hexdigest(),
        "000003.info.npy": hashlib.sha256((small_ref / "000003.info.npy").read_bytes()).hexdigest(),
    }
    assert got == GOLDEN, f"the output of a tiny build changed: {got}"


def _slow_square(x: int, delay: float) -> int:
    time.sleep(delay)
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_keeps_input_order(workers):
    # early units are slowest, so they finish last
    args = [(i, 0.05 if i < 3 else 0.0) for i in range(10)]
    with executor.LocalExecutor(workers, window=8) as ex:
        assert list(ex.imap(_slow_square, args)) == [i * i for i in range(10)]


def test_make_executor_picks_the_backend():
    assert isinstance(executor.make_executor(2), executor.LocalExecutor)
    r = executor.make_executor(2, ray=True)
    assert isinstance(r, executor.RayExecutor) and r.address is None and r.workers == 2
    assert executor.make_executor(2, ray_address="ray://h:10001").address == "ray://h:10001"
