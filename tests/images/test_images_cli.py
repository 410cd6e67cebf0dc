"""End-to-end ``images`` builds: ImageFolder layout (root OUT/train), byte determinism
across worker counts, the FractalDB filling-rate threshold re-measured, resume, and bad input."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pcfractal.cli import main
from pcfractal.core import ifs, keys
from pcfractal.core.chaos import chaos_game
from pcfractal.images import ClassSet

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

# Small but complete builds: (kind, extra args, classes, per class).
BUILDS = {
    "exfractaldb": (["--threshold", "0.05", "--n-points", "20000", "--size", "64"], 3, 5),
    "fractaldb": (["--n-points", "20000", "--size", "64", "--filling-rate", "0.1"], 3, 6),
    "rcdb": (["--size", "96"], 3, 5),
}


def image_argv(kind, workers, out) -> list[str]:
    """The command of a reference build of ``kind`` into ``out``."""
    extra, n_cls, per = BUILDS[kind]
    return [
        "images",
        "--kind",
        kind,
        "--preset",
        "tiny",
        "--count",
        str(n_cls),
        "--per-category",
        str(per),
        "--seed",
        "5",
        "--workers",
        str(workers),
        "--gallery",
        "4",
        "--out",
        str(out),
        *extra,
    ]


def build(tmp_path_factory, kind, workers, name=None):
    out = tmp_path_factory.mktemp(name or f"{kind}_w{workers}") / "out"
    argv = image_argv(kind, workers, out)
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module", params=sorted(BUILDS))
def built(request, tmp_path_factory):
    kind = request.param
    return kind, build(tmp_path_factory, kind, 1), build(tmp_path_factory, kind, 2)


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every output file (the build's state folder .pcfractal/ excluded)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".pcfractal" not in p.relative_to(root).parts
    }


def imagefolder_samples(root: Path):
    """torchvision's ImageFolder rule, restated: classes = sorted sub-folder names, samples =
    files with an image extension under each (sorted), target = class index."""
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    samples = []
    for idx, c in enumerate(classes):
        for dirpath, _, files in sorted(os.walk(root / c, followlinks=True)):
            for f in sorted(files):
                if f.lower().endswith(IMG_EXTENSIONS):
                    samples.append((os.path.join(dirpath, f), idx))
    return classes, samples


def test_imagefolder_layout_and_counts(built):
    kind, out, _ = built
    _, n_cls, per = BUILDS[kind]
    assert sorted(p.name for p in (out / "train").iterdir()) == [f"{c:05d}" for c in range(n_cls)]  # class folders only
    classes, samples = imagefolder_samples(out / "train")
    assert classes == [f"{c:05d}" for c in range(n_cls)]
    for c in range(n_cls):
        assert sorted(p.name for p in (out / "train" / f"{c:05d}").glob("*.png")) == [f"{c:05d}_{i:05d}.png" for i in range(per)]
    counts = np.bincount([t for _, t in samples], minlength=n_cls)
    assert counts.tolist() == [per] * n_cls
    size = {"exfractaldb": 64, "fractaldb": 64, "rcdb": 96}[kind]
    for path, _ in samples:
        with Image.open(path) as im:  # what ImageFolder's default loader does
            assert im.mode == "L" and im.size == (size, size)
            rgb = im.convert("RGB")
        assert np.asarray(rgb).std() > 0  # not a blank image
    assert not list(out.rglob("*.partial"))


def test_same_seed_same_bytes_for_1_and_2_workers(built):
    _, out1, out2 = built
    h1, h2 = tree_hashes(out1), tree_hashes(out2)
    assert h1 == h2
    assert {"gallery.png", "classes.json", "images.json", "README.md", "build_config.json", "manifest.json"} <= set(h1)


def test_fractaldb_categories_meet_the_filling_rate(built):
    kind, out, _ = built
    if kind != "fractaldb":
        pytest.skip("FractalDB only")
    classes = ClassSet.load(out / "classes.json")
    # --filling-rate, and the defaults of --search-size, --search-points and --pad
    threshold, size, n, pad = 0.1, 512, 100_000, 6
    assert classes.settings["filling_rate"] == threshold
    for params, origin in zip(classes.params, classes.origin):
        # Re-run the candidate's own stream, then measure with plain numpy: (N, 7) rows
        # a..f, p with p = |a d - b c| normalised; the orbit starts at the origin, which is
        # one of its n points; each axis scaled on its own into [pad, size - pad].
        rng = keys.generator(5, "fractaldb-search", origin["candidate"])
        system = ifs.sample_uniform(rng, dim=2)
        assert params.shape == (len(system), 7)
        np.testing.assert_array_equal(params[:, :6], system)
        det = np.abs(system[:, 0] * system[:, 3] - system[:, 1] * system[:, 2])
        np.testing.assert_allclose(params[:, 6], det / det.sum(), rtol=1e-12)
        pts = np.vstack([np.zeros((1, 2)), chaos_game(system, n - 1, rng)])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pix = ((pts - lo) * ((size - 2 * pad) / (hi - lo)) + pad).astype(int)
        assert pix.min() >= pad and pix.max() <= size - pad
        rate = len(np.unique(pix[:, 1] * size + pix[:, 0])) / size**2
        assert rate >= threshold
        assert abs(rate - origin["filling_rate"]) < 1e-12


def test_resume_rebuilds_an_unfinished_category(built, tmp_path):
    import shutil

    kind, out, _ = built
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    journal = (copy / ".pcfractal" / "journal.jsonl").read_text().splitlines()
    kept_lines = [l for l in journal if '"unit":"class-00001"' not in l]
    assert len(kept_lines) == len(journal) - 1
    (copy / ".pcfractal" / "journal.jsonl").write_text("".join(l + "\n" for l in kept_lines))  # as if killed mid-category
    victim = sorted((copy / "train" / "00001").glob("*.png"))[-1]
    victim.unlink()
    (copy / "train" / "00001" / (victim.name + ".1234abcd.partial")).write_bytes(b"junk")
    kept = {p: p.stat().st_mtime_ns for p in (copy / "train" / "00000").iterdir()}
    argv = image_argv(kind, 1, copy)
    assert main(argv) == 0
    assert tree_hashes(copy) == tree_hashes(out)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # a journaled class is checked and kept, not made again


def test_exfractaldb_reads_a_category_folder(tmp_path):
    cats = tmp_path / "cats"
    assert main(["categories", "--count", "2", "--threshold", "0.05", "--seed", "1", "--workers", "1", "--out", str(cats)]) == 0
    out = tmp_path / "imgs"
    assert (
        main(
            [
                "images",
                "--kind",
                "exfractaldb",
                "--categories",
                str(cats),
                "--per-category",
                "2",
                "--n-points",
                "5000",
                "--size",
                "48",
                "--workers",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    classes, samples = imagefolder_samples(out / "train")
    assert classes == ["00000", "00001"] and len(samples) == 4
    from pcfractal.pointclouds.category_file import CategorySet

    np.testing.assert_array_equal(ClassSet.load(out / "classes.json").params[1], CategorySet.load(cats).systems[1])


@pytest.mark.parametrize(
    "args,message",
    [
        (["--kind", "exfractaldb", "--size", "0"], "image size must be positive"),
        (["--kind", "fractaldb", "--n-points", "0"], "points per image must be positive"),
        (["--kind", "rcdb", "--n-points", "10"], "--n-points does not apply to --kind rcdb"),
        (["--kind", "rcdb", "--preset", "nope"], "unknown preset 'nope'"),
        (["--kind", "exfractaldb", "--preset", "rcdb-1k"], "unknown preset 'rcdb-1k' for --kind exfractaldb"),
        (["--kind", "voxels"], "invalid choice: 'voxels'"),
        (["--kind", "rcdb", "--per-category", "0"], "--per-category must be at least 1"),
        (["--kind", "rcdb", "--png-level", "12"], "PNG compression level must be 0..3 for the isal encoder"),
        (["--kind", "fractaldb", "--filling-rate", "1.5"], "filling rate threshold"),
        (["--kind", "exfractaldb", "--categories", "/nonexistent/cats"], "no category file"),
    ],
)
def test_bad_input_one_clear_error_and_no_output(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["images", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_refuses_a_folder_holding_another_build(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["images", "--kind", "rcdb", "--size", "32", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is not a pcfractal build" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
