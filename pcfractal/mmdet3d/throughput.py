"""Data-loader and training throughput of the VoteNet configs (votenet_cfg/).

Used by ``benchmarks/bench_loader.py`` (CPU: loader samples/s per core) and
``scripts/gpu_check.sh`` (GPU iterations/s beside it, and how many loader
workers keep the GPU busy).

* :func:`loader_rate`: samples/s of one process running the training dataset
  of a config, i.e. on-the-fly fractal scenes through the whole mmdet3d
  pipeline (scene build, augmentation, 40,000-point sampling, packing), and
  the reference measured on the same indices in the same run: the bare
  ``scene_builder.make_scene`` (the scene alone, no mmdet3d steps).
* :func:`train_rate`: iterations/s of ``model.train_step`` (forward,
  backward, optimiser step as mmengine's loop does it) on batches collated
  ahead of time, so the loader is not timed.
* :func:`workers_needed`: loader processes that feed ``it/s x batch``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ONTHEFLY_CFG = REPO / "votenet_cfg" / "pretrain_votenet_fractal_onthefly.py"


def make_categories(folder: Path, count: int, seed: int = 0, threshold: float = 0.05) -> Path:
    """A category file of ``count`` systems from the real variance search."""
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.search import SearchSettings, search_categories

    res = search_categories(count, seed, SearchSettings(threshold=threshold))
    cats = CategorySet([c.params for c in res.categories], seed, {"threshold": threshold})
    folder.mkdir(parents=True, exist_ok=True)
    return cats.save(folder / "categories.json")


def category_count(category_file) -> int:
    from pcfractal.pointclouds.category_file import CategorySet

    return len(CategorySet.load(category_file).systems)


def load_cfg(config, category_file=None, options=None):
    """A votenet_cfg config; for the fractal configs with ``category_file``
    and the head sized to its category count."""
    from pcfractal.mmdet3d.runner import load_config

    opts = dict(options or {})
    if category_file is not None:
        n = category_count(category_file)
        opts.update(
            {
                "train_dataloader.dataset.category_file": str(category_file),
                "val_dataloader.dataset.category_file": str(category_file),
                "test_dataloader.dataset.category_file": str(category_file),
                "model.bbox_head.num_classes": n,
                "model.bbox_head.bbox_coder.num_sizes": n,
            }
        )
    return load_config(str(config), opts)


def build_train_dataset(cfg):
    from mmdet3d.registry import DATASETS
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope("mmdet3d"):
        return DATASETS.build(cfg.train_dataloader.dataset)


def loader_rate(cfg, n: int, start: int = 0) -> dict:
    """Samples/s of the config's training dataset in this process (one core)
    over items start..start+n-1 (after one warm-up item), and of the bare
    scene build on the same scenes (the reference)."""
    from mmengine.registry import DefaultScope

    ds = build_train_dataset(cfg)
    with DefaultScope.overwrite_default_scope("mmdet3d"):
        ds[len(ds) - 1]  # warm-up: numba compiles, caches
        t = time.perf_counter()
        pts = 0
        for i in range(start, start + n):
            item = ds[i % len(ds)]
            pts += len(item["inputs"]["points"])
        pipe_s = (time.perf_counter() - t) / n
    ref = {}
    if hasattr(ds, "systems") or cfg.train_dataloader.dataset.get("category_file"):
        from pcfractal.pointclouds.category_file import CategorySet
        from scene_builder import SceneSettings, make_scene

        d = cfg.train_dataloader.dataset
        systems = CategorySet.load(d.category_file).systems
        settings = SceneSettings(**dict(d.get("scene_settings") or {}))
        t = time.perf_counter()
        for i in range(start, start + n):
            make_scene(systems, d.get("start_index", 0) + i % len(ds), d.get("seed", 0), settings)
        ref = {"scene_ms": (time.perf_counter() - t) / n * 1e3}
    return {"samples_per_s": 1.0 / pipe_s, "ms_per_sample": pipe_s * 1e3, "points_per_sample": pts / n, **ref}


def collated_batches(cfg, count: int, batch_size: int):
    """``count`` training batches of ``batch_size`` items, collated the way
    the config's loader does (pseudo_collate)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DefaultScope

    ds = build_train_dataset(cfg)
    out = []
    with DefaultScope.overwrite_default_scope("mmdet3d"):
        for b in range(count):
            out.append(pseudo_collate([ds[(b * batch_size + k) % len(ds)] for k in range(batch_size)]))
    return out


def train_rate(cfg, batches, iters: int, device: str = "cuda", warmup: int = 2) -> dict:
    """Iterations/s of the config's model and optimiser on ``device``, cycling
    through ``batches``; losses of the first and last iteration."""
    import torch
    from mmdet3d.registry import MODELS
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope("mmdet3d"):
        model_cfg = cfg.model.copy()
        model_cfg.get("backbone", {}).pop("init_cfg", None)  # no pre-trained file needed
        model = MODELS.build(model_cfg).to(device)
        model.train()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)

        def step(i):
            losses = model.train_step(batches[i % len(batches)], optim)
            return float(sum(v for k, v in losses.items() if "loss" in k))

        first = None
        for i in range(warmup):
            v = step(i)
            first = v if first is None else first
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        for i in range(iters):
            last = step(warmup + i)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = (time.perf_counter() - t) / iters
    return {"it_per_s": 1.0 / dt, "s_per_it": dt, "first_loss": first, "last_loss": last, "batch_size": len(batches[0]["inputs"]["points"])}


def workers_needed(it_per_s: float, batch_size: int, samples_per_s_per_worker: float) -> int:
    """Loader processes that produce ``it_per_s x batch_size`` samples/s."""
    if samples_per_s_per_worker <= 0:
        raise ValueError("samples_per_s_per_worker must be > 0")
    return max(1, math.ceil(it_per_s * batch_size / samples_per_s_per_worker))
