"""The pre-training configs read where the documented build writes:
``tools/build_pcfractal.py build --preset P --out data/pcfractal`` then
``tools/train.py CONFIG`` in the same folder, without any override; or any
folder through ``PCFRACTAL_ROOT``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "votenet_cfg"
CONFIGS = (
    "pretrain_votenet_fractal.py",
    "pretrain_votenet_fractal_onthefly.py",
    "pretrain_votenet_fractal_object.py",
    "pretrain_cls_pcfractaldb.py",
)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A tiny build, made by the documented command (categories and scenes
    stages), into <tmp>/data/pcfractal."""
    cwd = tmp_path_factory.mktemp("user")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_pcfractal.py"),
            "build",
            "--preset",
            "tiny",
            "--stages",
            "categories,scenes",
            "--out",
            "data/pcfractal",
            "--workers",
            "1",
            "-q",
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    return cwd


def _datasets(config):
    """The train and val datasets of a config as shipped."""
    from mmdet3d.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet3d")
    cfg = Config.fromfile(str(CFG / config))
    return [DATASETS.build(cfg[f"{s}_dataloader"].dataset) for s in ("train", "val")]


@pytest.mark.parametrize("config", CONFIGS)
def test_configs_read_the_default_build_folder(build, config, monkeypatch):
    monkeypatch.chdir(build)
    monkeypatch.delenv("PCFRACTAL_ROOT", raising=False)
    train, val = _datasets(config)
    assert len(train) > 0 and len(val) > 0
    item = train[0]  # loads points (and boxes) through the real pipeline
    assert item["inputs"]["points"].shape[1] == 4  # xyz + height
    if "cls" not in config:
        assert len(item["data_samples"].gt_instances_3d.labels_3d) > 0


def test_pcfractal_root_points_elsewhere(build, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no data/ here
    with pytest.raises(FileNotFoundError):
        _datasets("pretrain_votenet_fractal.py")
    monkeypatch.setenv("PCFRACTAL_ROOT", str(build / "data" / "pcfractal"))
    train, _ = _datasets("pretrain_votenet_fractal.py")
    assert train.data_root == os.path.join(str(build / "data" / "pcfractal"), "scenes/")
