"""scripts/gpu_check.sh without a GPU, and the loader benchmark it shares with
benchmarks/bench_loader.py (the GPU parts cannot run on this CPU machine)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pcfractal.mmdet3d import throughput as tp

REPO = Path(__file__).resolve().parents[2]
NO_GPU = not (torch.version.cuda and torch.cuda.is_available())


def test_workers_needed():
    assert tp.workers_needed(2.0, 8, 4.0) == 4
    assert tp.workers_needed(2.0, 8, 3.9) == 5
    assert tp.workers_needed(0.1, 8, 100.0) == 1
    with pytest.raises(ValueError):
        tp.workers_needed(1.0, 8, 0.0)


@pytest.mark.skipif(not NO_GPU, reason="a CUDA GPU is present")
def test_gpu_check_without_gpu_is_one_clean_line():
    r = subprocess.run(["bash", str(REPO / "scripts" / "gpu_check.sh"), sys.executable], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("gpu_check: no CUDA GPU")
    # the Python part alone says why (torch's build here)
    r = subprocess.run([sys.executable, "-m", "pcfractal.mmdet3d.gpu_check"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.count("\n") == 1, r.stderr
    assert r.stdout.startswith("gpu_check: no CUDA GPU (torch ")


def test_loader_rate_and_train_step_on_cpu(tmp_path):
    """The measuring code itself, on the CPU: the real on-the-fly config's
    pipeline yields 40,000-point samples, and train_rate steps the real model
    (its loss is finite)."""
    cats = tp.make_categories(tmp_path, 4)
    cfg = tp.load_cfg(tp.ONTHEFLY_CFG, cats)
    r = tp.loader_rate(cfg, 1)
    assert r["points_per_sample"] == 40000 and r["samples_per_s"] > 0 and r["scene_ms"] > 0
    cfg = tp.load_cfg(
        tp.ONTHEFLY_CFG, cats, {"model.backbone.num_points": (256, 128, 64, 32), "model.bbox_head.vote_aggregation_cfg.num_point": 32}
    )
    batches = tp.collated_batches(cfg, 1, 1)
    t = tp.train_rate(cfg, batches, 1, device="cpu", warmup=1)
    assert t["it_per_s"] > 0 and t["batch_size"] == 1
    assert all(map(lambda v: v == v and v < 1e6, (t["first_loss"], t["last_loss"])))


@pytest.mark.slow
def test_bench_loader_quick(tmp_path):
    r = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_loader.py"), "--samples", "2", "--count", "4", "--it-per-s", "3"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "samples/s per core" in r.stdout and "reference, bare make_scene" in r.stdout
    assert "loader workers" in r.stdout


def test_the_configs_the_check_trains_exist():
    from pathlib import Path

    from pcfractal.mmdet3d import gpu_check

    root = Path(__file__).resolve().parents[2] / "votenet_cfg"
    names = [gpu_check.PRETRAIN_CONFIG] + [gpu_check.FINETUNE_CONFIG.format(d) for d in ("scannet", "sunrgbd")]
    assert all((root / f"{n}.py").is_file() for n in names), names
