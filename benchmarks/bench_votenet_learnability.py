"""Which pre-training target does VoteNet learn best on fractal scenes?
Train each target with the same compute budget (the same iterations on the
same scenes, batch and seed) and report every loss term at the start and the
end and the held-out mAP before and after.

    .venv/bin/python benchmarks/bench_votenet_learnability.py
        [--iterations 200] [--modes rotated:per_category,rotated:shared,...]
        [--model tiny|full] [--train-scenes 300] [--val-scenes 30]
        [--categories 10] [--json OUT]

Budget: the defaults (4 targets x 200 iterations of the tiny model at batch
4) take 8-15 minutes on this project's shared 2-core machine: about half a
minute of data, 0.4-0.9 s per iteration (idle to busy), and about 10-40 s
of evaluation per target (scored on the held-out scenes before and after
training). The budget is counted in iterations, not minutes, so the targets
get the same compute whatever else the machine is doing; each target's CPU
seconds and wall time are printed beside.

What it runs (not part of CI):

1. a real category search (``--categories`` systems at ``--threshold``);
2. ``--train-scenes`` + ``--val-scenes`` fractal scenes written with
   ``scene_builder.writers.mmdet3d`` (the val scenes are the last ones: held
   out, never trained on), smaller than the paper's (7.5 m rooms of about 8
   objects of 2,000 points; ``--paper-scenes`` for the paper's);
3. for each target (``box_mode:size_mode``, see
   ``pcfractal.mmdet3d.recipes.target_head``): the config
   ``votenet_cfg/pretrain_votenet_fractal.py`` with that target
   (``recipes.fractal_target``), ``--categories`` classes, its augmentation,
   optimizer (AdamW 0.008) and metric, on ``--points`` points per scene at
   batch ``--batch``; ``--model tiny`` (default) swaps in the tiny PointNet++
   and head of ``votenet_cfg/_base_/tiny.py`` (8x fewer sampled points,
   narrower MLPs: about 0.3 s an iteration instead of 6-11 s, so a few
   minutes are hundreds of iterations), ``--model full`` keeps the paper's
   VoteNet. Each target trains through tools/train.py's Runner for
   ``--iterations`` iterations from the same seed (data in the main
   process, so the CPU time printed is all of it);
4. per target: the mean of every loss term over the first and the last
   iterations (the heading-class loss at chance is ln 12 = 2.48, the
   semantic loss at chance ln(categories)), and the config's metric on the
   held-out scenes before (random weights) and after: ``mAP`` over the
   fractal categories and the class-agnostic ``object_mAP``, at IoU 0.25 and
   0.5. Each target is scored against its own boxes (axis-aligned boxes of
   the objects' points for ``axis_aligned``, the rotated boxes otherwise).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL_SCENES = dict(base_objects=6, extra_objects_mean=2.0, room_size=7.5)
SMALL_INSTANCES = dict(n_points=2000)
DEFAULT_MODES = ("rotated:per_category", "rotated:shared", "axis_aligned:shared", "no_heading:shared")
ALL_MODES = tuple(f"{b}:{s}" for b in ("rotated", "axis_aligned", "no_heading") for s in ("shared", "per_category"))
LOSSES = (
    "vote_loss",
    "objectness_loss",
    "semantic_loss",
    "center_loss",
    "dir_class_loss",
    "dir_res_loss",
    "size_class_loss",
    "size_res_loss",
    "loss",
)
METRICS = ("mAP_0.25", "mAP_0.50", "object_mAP_0.25", "object_mAP_0.50")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=200, help="training iterations of each target (default 200)")
    p.add_argument(
        "--modes", default=",".join(DEFAULT_MODES), help="comma-separated box_mode:size_mode targets, or 'all' (default: %(default)s)"
    )
    p.add_argument("--model", choices=("tiny", "full"), default="tiny")
    p.add_argument("--train-scenes", type=int, default=300)
    p.add_argument("--val-scenes", type=int, default=30)
    p.add_argument("--categories", type=int, default=10, help="fractal categories = detection classes (default 10)")
    p.add_argument(
        "--threshold", type=float, default=0.05, help="variance threshold of the category search (default 0.05, fast; the paper uses 0.15)"
    )
    p.add_argument(
        "--points", type=int, help="points per scene fed to VoteNet (default 4,096 with the tiny model, 10,000 with the full one)"
    )
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.008)
    p.add_argument("--paper-scenes", action="store_true", help="the paper's scene settings (15 m, ~20 objects of 4,000 points)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="work folder (default: a temp folder)")
    p.add_argument("--json", help="write the results to this JSON file")
    args = p.parse_args(argv)
    args.modes = ALL_MODES if args.modes == "all" else tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if args.points is None:
        args.points = 4096 if args.model == "tiny" else 10000
    return args


def build_data(out: Path, args) -> Path:
    from pcfractal.pointclouds.category_file import CategorySet
    from pcfractal.pointclouds.instances import InstanceSettings
    from pcfractal.pointclouds.search import SearchSettings, search_categories
    from scene_builder import SceneSettings
    from scene_builder.writers.mmdet3d import write_dataset

    t = time.time()
    res = search_categories(args.categories, args.seed, SearchSettings(threshold=args.threshold))
    cats = CategorySet([c.params for c in res.categories], args.seed, {"threshold": args.threshold})
    (out / "cats").mkdir(parents=True, exist_ok=True)
    cats.save(out / "cats" / "categories.json")
    scene_kw = {} if args.paper_scenes else SMALL_SCENES
    inst_kw = {} if args.paper_scenes else SMALL_INSTANCES
    count = args.train_scenes + args.val_scenes
    summary = write_dataset(
        out / "scenes",
        cats.systems,
        count,
        args.seed,
        SceneSettings(**scene_kw, instances_per_category=1000),
        InstanceSettings(**inst_kw),
        val_fraction=args.val_scenes / count,
        masks=False,
        workers=2,
    )
    print(
        f"[data] {args.categories} categories, {summary['n_train']} train "
        f"+ {summary['n_val']} held-out scenes, {summary['objects']} "
        f"objects in {time.time() - t:.0f} s",
        flush=True,
    )
    return out / "scenes"


def make_cfg(scenes: Path, work_dir: Path, mode: str, args):
    """The config of one target: pretrain_votenet_fractal.py, the target,
    the benchmark's data, size and schedule."""
    sys.path.insert(0, str(ROOT / "tools"))
    import train as train_tool

    from pcfractal.mmdet3d.recipes import fractal_target

    box_mode, size_mode = mode.split(":")
    name = f"learn_{box_mode}_{size_mode}"
    opts = {
        "experiment_name": name,
        "visualizer.name": name,
        "train_dataloader.batch_size": args.batch,
        "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False,
        "val_dataloader.num_workers": 0,
        "test_dataloader.num_workers": 0,
        "val_dataloader.dataset.indices": args.val_scenes,
        "optim_wrapper.optimizer.lr": args.lr,
        "randomness": dict(seed=args.seed),
        "default_hooks.logger.interval": 10,
        "default_hooks.checkpoint": dict(type="CheckpointHook", interval=10**9, save_last=False, by_epoch=False),
        "log_processor": dict(window_size=10, by_epoch=False),
    }
    for split in ("train", "val", "test"):
        opts[f"{split}_dataloader.dataset.data_root"] = str(scenes)
    cfg = train_tool.load_config(str(ROOT / "votenet_cfg" / "pretrain_votenet_fractal.py"), opts, work_dir=str(work_dir / name))
    cfg.merge_from_dict(fractal_target(cfg, box_mode, size_mode, num_classes=args.categories))
    if args.model == "tiny":
        tiny = runpy.run_path(str(ROOT / "votenet_cfg" / "_base_" / "tiny.py"))
        cfg.merge_from_dict(dict(model=dict(backbone=tiny["tiny_backbone"], bbox_head=tiny["tiny_bbox_head"])))
    for split in ("train", "val", "test"):
        for t in cfg[f"{split}_dataloader"].dataset.pipeline:
            if t["type"] == "PointSample":
                t["num_points"] = args.points
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=args.iterations, val_interval=10**9)
    cfg.param_scheduler = []
    return cfg


def run_mode(scenes: Path, work: Path, mode: str, args) -> dict:
    import numpy as np
    from mmengine.runner import Runner

    runner = Runner.from_cfg(make_cfg(scenes, work, mode, args))
    runner.model.init_weights()
    t = time.time()
    start = runner.val()
    t_val = time.time() - t
    t, cpu = time.time(), time.process_time()
    runner.train()
    t_train, cpu_train = time.time() - t, time.process_time() - cpu
    end = runner.val_loop.run()
    n = int(runner.iter)
    k = max(1, min(20, n // 5))
    losses = {}
    for key in LOSSES:
        hub_key = f"train/{key}"
        if hub_key not in runner.message_hub.log_scalars:
            continue
        values = np.asarray(runner.message_hub.get_scalar(hub_key).data[0], float)
        losses[key] = (float(values[:k].mean()), float(values[-k:].mean()))
    return dict(
        mode=mode,
        iterations=n,
        averaged_iterations=k,
        train_seconds=round(t_train, 1),
        train_cpu_seconds=round(cpu_train, 1),
        seconds_per_iteration=round(t_train / max(1, n), 3),
        val_seconds=round(t_val, 1),
        epochs=round(n * args.batch / args.train_scenes, 2),
        losses=losses,
        start={m: float(start.get(m, float("nan"))) for m in METRICS},
        end={m: float(end.get(m, float("nan"))) for m in METRICS},
    )


def print_report(results, args) -> None:
    import math

    print(
        f"\n[learnability] {len(results)} targets x "
        f"{args.iterations} iterations each ({args.model} "
        f"model, {args.categories} categories, {args.train_scenes} train / "
        f"{args.val_scenes} held-out scenes, batch {args.batch} x "
        f"{args.points} points). Loss terms: mean of the first -> last "
        "iterations; chance: dir_class ln 12 = 2.48, semantic "
        f"ln {args.categories} = {math.log(args.categories):.2f}"
    )
    for r in results:
        print(
            f"\n  {r['mode']}: {r['iterations']} iterations "
            f"({r['epochs']} epochs, {r['seconds_per_iteration']} s/it, "
            f"{r['train_cpu_seconds']:.0f} CPU-s, "
            f"means over {r['averaged_iterations']})"
        )
        print("    " + "  ".join(f"{k} {a:.3f}->{b:.3f}" for k, (a, b) in r["losses"].items()))
        print("    held-out " + "  ".join(f"{m} {r['start'][m]:.3f}->{r['end'][m]:.3f}" for m in METRICS))
    print(
        "\n  | target | iterations | mAP@0.25 | mAP@0.5 | object mAP@0.25 "
        "| object mAP@0.5 | dir_class loss | size_class loss | "
        "semantic loss |"
    )
    print("  |---|---|---|---|---|---|---|---|---|")
    for r in results:
        L = r["losses"]

        def f(key):
            return "{:.2f} -> {:.2f}".format(*L[key]) if key in L else "-"

        print(
            f"  | {r['mode']} | {r['iterations']} | "
            f"{r['start']['mAP_0.25']:.3f} -> {r['end']['mAP_0.25']:.3f} | "
            f"{r['start']['mAP_0.50']:.3f} -> {r['end']['mAP_0.50']:.3f} | "
            f"{r['start']['object_mAP_0.25']:.3f} -> "
            f"{r['end']['object_mAP_0.25']:.3f} | "
            f"{r['start']['object_mAP_0.50']:.3f} -> "
            f"{r['end']['object_mAP_0.50']:.3f} | {f('dir_class_loss')} | "
            f"{f('size_class_loss')} | {f('semantic_loss')} |"
        )


def main(argv=None):
    args = parse_args(argv)
    for mode in args.modes:
        if mode not in ALL_MODES:
            raise SystemExit(f"unknown target {mode!r}; one of {ALL_MODES}")
    t0 = time.time()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="votenet_learnability_"))
    scenes = build_data(out, args)
    results = []
    for mode in args.modes:
        t = time.time()
        results.append(run_mode(scenes, out / "work", mode, args))
        r = results[-1]
        print(
            f"[learnability] {mode}: {r['iterations']} iterations; "
            f"held-out mAP@0.25 {r['start']['mAP_0.25']:.3f} -> "
            f"{r['end']['mAP_0.25']:.3f}, object mAP@0.25 "
            f"{r['start']['object_mAP_0.25']:.3f} -> "
            f"{r['end']['object_mAP_0.25']:.3f} ({time.time() - t:.0f} s)",
            flush=True,
        )
    print_report(results, args)
    total = time.time() - t0
    print(f"\n[learnability] total {total / 60:.1f} min")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(args={k: v for k, v in vars(args).items()}, total_minutes=round(total / 60, 1), results=results), f, indent=2)
    return results


if __name__ == "__main__":
    main()
