"""Small, fast builds for the engine tests, made once per session with the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pcfractal.cli import main

CATS = ["--count", "3", "--threshold", "0.05", "--points-per-trial", "2000", "--seed", "4"]
INST = ["--per-category", "3", "--points", "300", "--seed", "4"]
SCENES = ["--count", "3", "--per-category", "2", "--points", "200", "--base-objects", "3", "--extra-objects", "1", "--seed", "4"]
IMAGES = ["--kind", "rcdb", "--count", "3", "--per-category", "2", "--size", "48", "--gallery", "2", "--seed", "4"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def tree(folder: Path) -> dict[str, bytes]:
    """Every output file below ``folder`` (the build's own state folder excluded)."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".pcfractal" not in p.relative_to(folder).parts
    }


@pytest.fixture(scope="session")
def refs(tmp_path_factory) -> dict[str, Path]:
    """Clean reference builds: categories, instances, scenes, images (folder and shards)."""
    root = tmp_path_factory.mktemp("refs")
    out = {"categories": root / "cats"}
    assert main(["categories", *CATS, "--workers", "1", "--out", str(out["categories"])]) == 0
    out["instances"] = root / "inst"
    assert main(["instances", "--categories", str(out["categories"]), *INST, "--workers", "1", "--out", str(out["instances"])]) == 0
    out["scenes"] = root / "scenes"
    assert main(["scenes", "--categories", str(out["categories"]), *SCENES, "--workers", "1", "--out", str(out["scenes"])]) == 0
    out["images"] = root / "images"
    assert main(["images", *IMAGES, "--workers", "1", "--out", str(out["images"])]) == 0
    out["shards"] = root / "shards"
    assert main(["images", *IMAGES, "--layout", "shards", "--shard-size", "4", "--workers", "1", "--out", str(out["shards"])]) == 0
    return out


def argv_of(kind: str, refs: dict, out: Path) -> list[str]:
    """The command that made reference ``kind``, into ``out``."""
    return {
        "categories": ["categories", *CATS],
        "instances": ["instances", "--categories", refs["categories"], *INST],
        "scenes": ["scenes", "--categories", refs["categories"], *SCENES],
        "images": ["images", *IMAGES],
        "shards": ["images", *IMAGES, "--layout", "shards", "--shard-size", "4"],
    }[kind] + ["--workers", "1", "--out", out]


@pytest.fixture
def copy_of(refs, tmp_path):
    def make(kind: str) -> Path:
        d = tmp_path / kind
        shutil.copytree(refs[kind], d)
        return d

    return make
