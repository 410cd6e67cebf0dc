"""pcfractal categories / instances / export-csv / import-csv / build, in-process."""

import json
from pathlib import Path

import numpy as np
import pytest

from pcfractal.cli import main
from pcfractal.pointclouds.category_file import CategorySet


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Categories and instances built with 1 and with 2 workers (both instance builds read
    cats1, so that their settings, which name the input folder, are the same)."""
    root = tmp_path_factory.mktemp("engine")
    for w in (1, 2):
        assert (
            main(["categories", "--count", "5", "--threshold", "0.05", "--seed", "7", "--workers", str(w), "--out", str(root / f"cats{w}")])
            == 0
        )
    for w in (1, 2):
        assert (
            main(
                [
                    "instances",
                    "--categories",
                    str(root / "cats1"),
                    "--per-category",
                    "6",
                    "--seed",
                    "7",
                    "--workers",
                    str(w),
                    "--out",
                    str(root / f"inst{w}"),
                ]
            )
            == 0
        )
    return root


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_same_bytes_with_one_and_two_workers(built):
    for kind in ("cats", "inst"):
        one, two = files(built / f"{kind}1"), files(built / f"{kind}2")
        assert {"manifest.json", "build_config.json"} <= one.keys()
        assert one.keys() == two.keys() and one == two


def test_category_build_outputs(built):
    d = built / "cats1"
    assert {"categories.json", "gallery.png", "stats.json", "stats.md"} <= set(files(d))
    cats = CategorySet.load(d)
    assert len(cats) == 5 and cats.seed == 7 and cats.settings["threshold"] == 0.05
    stats = json.loads((d / "stats.json").read_text())
    assert stats["variance"]["min_over_axes"]["min"] > 0.05
    assert sum(stats["n_maps_histogram"].values()) == 5
    assert (d / "gallery.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_instance_files(built):
    d = built / "inst1"
    summary = json.loads((d / "instances.json").read_text())
    assert summary["instances"] == 30 and summary["main_points"] == 3200
    for c in range(5):
        pts = np.load(d / f"{c:06d}.npy")
        info = np.load(d / f"{c:06d}.info.npy")
        assert pts.shape == (6, 4000, 3) and pts.dtype == np.float16
        assert info.shape == (6, 3) and np.all(info[:, 0] != c)


def test_csv_export_import_round_trip(built, tmp_path, capsys):
    assert run(capsys, "export-csv", "--categories", built / "cats1", "--out", tmp_path / "csv")[0] == 0
    assert sorted(p.name for p in (tmp_path / "csv" / "csv").glob("*.csv")) == [f"{i:06d}.csv" for i in range(5)]
    assert run(capsys, "import-csv", "--csv-folder", tmp_path / "csv" / "csv", "--out", tmp_path / "back")[0] == 0
    a, b = CategorySet.load(built / "cats1"), CategorySet.load(tmp_path / "back")
    assert all(np.array_equal(x, y) for x, y in zip(a.systems, b.systems))


def test_rerun_resumes_and_finished_build_is_kept(built, capsys):
    before = files(built / "inst1")
    code, out, _ = run(
        capsys,
        "instances",
        "--categories",
        built / "cats1",
        "--per-category",
        "6",
        "--seed",
        "7",
        "--workers",
        "1",
        "--out",
        built / "inst1",
    )
    assert code == 0 and files(built / "inst1") == before


def test_other_build_in_out_folder_is_refused(built, capsys):
    code, _, err = run(capsys, "instances", "--categories", built / "cats1", "--per-category", "6", "--seed", "8", "--out", built / "inst1")
    assert code == 2 and "holds another instances build" in err and err.count("\n") == 1


BAD = [
    (["categories", "--count", "0"], "at least 1"),
    (["categories", "--count", "-3"], "--count"),  # refused by the flag's type or by the settings, one line either way
    (["categories", "--count", "abc"], "expected a number"),
    (["categories", "--threshold", "0.5"], "threshold"),
    (["categories", "--threshold", "0"], "threshold"),
    (["instances", "--categories", "{cats}", "--ratio", "1.0"], "ratio"),
    (["instances", "--categories", "{cats}", "--ratio", "0"], "ratio"),
    (["instances", "--categories", "{cats}", "--per-category", "0"], "at least 1"),
    (["instances", "--categories", "{bad}"], "categories.json"),
    (["instances", "--categories", "{missing}"], "no categories.json"),
    (["categories", "--seed", "-1"], "seed"),
]


@pytest.mark.parametrize("argv,match", BAD)
def test_bad_input_one_line_nonzero_no_output(built, tmp_path, capsys, argv, match):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "categories.json").write_text('{"format": "pcfractal.categories", "format_version": 1, "categories": []}')
    argv = [a.format(cats=built / "cats1", bad=bad, missing=tmp_path / "nope") for a in argv]
    out = tmp_path / "out"
    code, _, err = run(capsys, *argv, "--out", out)
    assert code == 2
    assert match in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_unwritable_output_folder(built, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "categories", "--count", "1", "--threshold", "0.05", "--out", blocker / "sub")
    assert code == 2 and "cannot" in err and len(err.strip().splitlines()) == 1
    assert blocker.read_text() == "x"


def test_build_runs_every_stage_with_the_same_object_settings(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "build",
        "--preset",
        "tiny",
        "--count",
        "3",
        "--per-category",
        "2",
        "--scenes",
        "2",
        "--threshold",
        "0.05",
        "--ratio",
        "0.7",
        "--workers",
        "1",
        "--out",
        tmp_path / "demo",
    )
    assert code == 0, out
    assert (tmp_path / "demo/categories/categories.json").is_file()
    insts = json.loads((tmp_path / "demo/instances/instances.json").read_text())
    assert insts["ratio"] == 0.7 and insts["main_points"] == 2800
    scenes = json.loads((tmp_path / "demo/scenes/manifest.json").read_text())
    assert '"ratio": 0.7' in json.dumps(scenes) and len(list((tmp_path / "demo/scenes/points").glob("*.bin"))) == 2


def test_build_dry_run_writes_nothing(tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--dry-run", "--workers", "1", "--out", tmp_path / "demo")
    assert code == 0 and "dry run" in out and not (tmp_path / "demo").exists()


def test_ply_export_opens_in_open3d(built, tmp_path, capsys):
    import open3d as o3d

    code, _, err = run(
        capsys,
        "instances",
        "--categories",
        built / "cats1",
        "--per-category",
        "2",
        "--ply",
        "1",
        "--workers",
        "1",
        "--out",
        tmp_path / "inst",
    )
    assert code == 0, err
    plys = sorted((tmp_path / "inst" / "ply").glob("*.ply"))
    assert len(plys) == 5  # first instance of each of the 5 categories
    cloud = np.asarray(o3d.io.read_point_cloud(str(plys[0])).points)
    stored = np.load(tmp_path / "inst" / "000000.npy")[0].astype(np.float64)
    assert cloud.shape == (4000, 3)
    np.testing.assert_allclose(cloud, stored, atol=1e-6)
