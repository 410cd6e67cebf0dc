"""Image outputs read right by the libraries users train with: torchvision ImageFolder, timm's
ImageDataset and wds reader, HuggingFace ``datasets`` (imagefolder, the dataset card,
webdataset) and webdataset. They run in ``.venv-loaders`` (made by ``scripts/install.sh
--test``; torchvision from PyPI does not import beside the CPU torch of ``.venv``) through
``driver.py``; a missing ``.venv-loaders`` is a failure, not a skip."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from loaders._fixture import LOADERS_PYTHON, make_image_output

DRIVER = Path(__file__).with_name("driver.py")


def run_driver(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    if not LOADERS_PYTHON.is_file():
        pytest.fail(f"{LOADERS_PYTHON} is missing: run 'bash scripts/install.sh --test' (it makes the loaders' environment)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        HF_HOME=str(tmp_path / "hf"),
        HF_DATASETS_CACHE=str(tmp_path / "hf" / "datasets"),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TORCH_HOME=str(tmp_path / "torch"),
    )
    return subprocess.run([str(LOADERS_PYTHON), str(DRIVER), *args], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


@pytest.mark.slow
def test_every_loader_reads_the_image_output(tmp_path):
    out, classes = make_image_output(tmp_path / "out", layout="both")
    proc = run_driver(
        ["--tree", str(out / "train"), "--shards", str(out / "shards"), "--card-root", str(out), "--classes", ",".join(classes)], tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for loader in (
        "torchvision ImageFolder",
        "timm ImageDataset",
        "datasets imagefolder",
        "datasets load_dataset(DIR)",
        "webdataset",
        "datasets webdataset",
        "timm wds reader",
    ):
        assert f"ok {loader}" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_driver_catches_a_file_at_the_tree_root(tmp_path):
    """The driver is not blind: a gallery.png at the ImageFolder root (the old layout) makes
    timm invent a class and HuggingFace drop the labels, and the driver says so."""
    out, classes = make_image_output(tmp_path / "out", layout="folder")
    (out / "train" / "gallery.png").write_bytes((out / "gallery.png").read_bytes())  # where 0.1 put it
    proc = run_driver(["--tree", str(out / "train"), "--classes", ",".join(classes)], tmp_path)
    assert proc.returncode == 1
    assert "PROBLEM timm ImageDataset" in proc.stderr and "PROBLEM datasets imagefolder" in proc.stderr, proc.stderr
    assert "ok torchvision ImageFolder" in proc.stdout  # torchvision only looks at folders


def test_image_output_layout_is_what_the_loaders_need(tmp_path):
    out, classes = make_image_output(tmp_path / "out", layout="both")
    assert {"README.md", "classes.json", "gallery.png", "images.json", "manifest.json", "train", "shards"} <= {
        p.name for p in out.iterdir()
    }
    tree = out / "train"
    assert sorted(p.name for p in tree.iterdir()) == classes  # the ImageFolder root holds class folders only
    info = json.loads((out / "shards" / "_info.json").read_text())
    split = info["splits"]["train"]
    assert split["num_samples"] == len(list(tree.glob("*/*.png"))) == sum(split["shard_lengths"]) and info["num_classes"] == len(classes)
    assert split["filenames"] == sorted(p.name for p in (out / "shards").glob("train-*.tar"))
