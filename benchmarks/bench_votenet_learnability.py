"""Does VoteNet learn fractal scenes? Pre-train on CPU within a time budget
and report held-out fractal-scene mAP@0.25 at the start and at the end.

    .venv/bin/python benchmarks/bench_votenet_learnability.py [--minutes 30]
        [--train-scenes 300] [--val-scenes 30] [--categories 10] [--out DIR]

What it runs (not part of CI):

1. a real category search (``--categories`` systems at ``--threshold``);
2. ``--train-scenes`` + ``--val-scenes`` fractal scenes written with
   ``scene_builder.writers.mmdet3d`` (the val scenes are the last ones: held
   out, never trained on);
3. mmdet3d's VoteNet exactly as in ``votenet_cfg/pretrain_votenet_fractal.py``
   (the PointNet++ VoteNet, rotated boxes, 12 heading bins, its augmentation
   and AdamW 0.008), on ``--points`` points per scene, batch ``--batch``, trained
   through ``tools/train.py``'s Runner until ``--minutes`` of training have
   passed;
4. IndoorMetric on the held-out scenes before training (random weights) and
   after: ``mAP@0.25`` / ``mAP@0.5`` over the fractal categories and the
   class-agnostic ``object_mAP`` (localisation only).

Scenes are smaller than the paper's by default (a 7.5 m room with about 8
objects of 2,000 points instead of 15 m, 20 objects of 4,000 points): the
same objects, boxes and rules at a density a 2-core CPU can train on for a
few hundred scenes in 30 minutes. ``--paper-scenes`` uses the paper's scene
settings instead.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL_SCENES = dict(
    base_objects=6, extra_objects_mean=2.0, room_size=7.5)
SMALL_INSTANCES = dict(n_points=2000)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, default=30.0,
                   help='training time budget (default 30)')
    p.add_argument('--train-scenes', type=int, default=300)
    p.add_argument('--val-scenes', type=int, default=30)
    p.add_argument('--categories', type=int, default=10,
                   help='fractal categories = detection classes (default 10)')
    p.add_argument('--threshold', type=float, default=0.05,
                   help='variance threshold of the category search '
                   '(default 0.05, fast; the paper uses 0.15)')
    p.add_argument('--points', type=int, default=10000,
                   help='points per scene fed to VoteNet (default 10,000; '
                   'the cost is in the MLPs, whose sizes do not depend on it)')
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--lr', type=float, default=0.008)
    p.add_argument('--paper-scenes', action='store_true',
                   help="the paper's scene settings (15 m, ~20 objects of "
                   '4,000 points)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='work folder (default: a temp folder)')
    p.add_argument('--json', help='write the results to this JSON file')
    return p.parse_args(argv)


def build_data(out: Path, args) -> Path:
    from scene_builder import SceneSettings
    from scene_builder.writers.mmdet3d import write_dataset

    from pcfractal.pointclouds.instances import InstanceSettings
    from pcfractal.pointclouds.search import SearchSettings, search_categories
    from pcfractal.pointclouds.category_file import CategorySet
    t = time.time()
    res = search_categories(args.categories, args.seed,
                            SearchSettings(threshold=args.threshold))
    cats = CategorySet([c.params for c in res.categories], args.seed,
                       {'threshold': args.threshold})
    (out / 'cats').mkdir(parents=True, exist_ok=True)
    cats.save(out / 'cats' / 'categories.json')
    scene_kw = {} if args.paper_scenes else SMALL_SCENES
    inst_kw = {} if args.paper_scenes else SMALL_INSTANCES
    count = args.train_scenes + args.val_scenes
    summary = write_dataset(
        out / 'scenes',
        cats.systems,
        count,
        args.seed,
        SceneSettings(**scene_kw, instances_per_category=1000),
        InstanceSettings(**inst_kw),
        val_fraction=args.val_scenes / count,
        workers=2)
    print(f'[data] {args.categories} categories, {summary["n_train"]} train '
          f'+ {summary["n_val"]} held-out scenes, {summary["objects"]} '
          f'objects in {time.time() - t:.0f} s')
    return out / 'scenes'


def make_runner(scenes: Path, work_dir: Path, args):
    sys.path.insert(0, str(ROOT / 'tools'))
    import train as train_tool
    from mmengine.hooks import Hook
    n = args.categories
    opts = {
        'model.bbox_head.num_classes': n,
        'model.bbox_head.bbox_coder.num_sizes': n,
        'train_dataloader.batch_size': args.batch,
        'train_dataloader.num_workers': 1,
        'val_dataloader.num_workers': 0,
        'test_dataloader.num_workers': 0,
        'optim_wrapper.optimizer.lr': args.lr,
        'randomness': dict(seed=args.seed),
        'default_hooks.logger.interval': 10,
        'default_hooks.checkpoint': dict(
            type='CheckpointHook', interval=10**9, save_last=True,
            by_epoch=False),
        'log_processor': dict(window_size=10, by_epoch=False),
    }
    for split in ('train', 'val', 'test'):
        opts[f'{split}_dataloader.dataset.data_root'] = str(scenes)
    cfg = train_tool.load_config(
        str(ROOT / 'votenet_cfg' / 'pretrain_votenet_fractal.py'), opts,
        work_dir=str(work_dir))
    for split in ('train', 'val', 'test'):
        for t in cfg[f'{split}_dataloader'].dataset.pipeline:
            if t['type'] == 'PointSample':
                t['num_points'] = args.points
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=10**9, val_interval=10**9)
    cfg.param_scheduler = []
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    budget = args.minutes * 60

    class TimeBudget(Hook):
        """Stop training when the budget is spent (checked every step)."""
        priority = 'VERY_LOW'

        def before_train(self, runner):
            self.t0 = time.time()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if time.time() - self.t0 >= budget:
                runner.train_loop.stop_training = True

    runner.register_hook(TimeBudget())
    return runner


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out) if args.out else Path(
        tempfile.mkdtemp(prefix='votenet_learnability_'))
    scenes = build_data(out, args)
    runner = make_runner(scenes, out / 'work', args)
    import numpy as np
    runner.model.init_weights()
    t = time.time()
    start = runner.val()
    t_val = time.time() - t
    t = time.time()
    runner.train()
    t_train = time.time() - t
    end = runner.val_loop.run()
    losses, _ = runner.message_hub.get_scalar('train/loss').data
    losses = np.asarray(losses, float)
    k = max(1, min(20, len(losses) // 5))
    res = dict(
        iterations=int(runner.iter),
        batch=args.batch,
        points=args.points,
        train_seconds=round(t_train, 1),
        seconds_per_iteration=round(t_train / max(1, runner.iter), 2),
        val_seconds=round(t_val, 1),
        epochs=round(runner.iter * args.batch / args.train_scenes, 2),
        loss_start=float(losses[:k].mean()),
        loss_end=float(losses[-k:].mean()),
        start={k: float(v) for k, v in start.items() if 'mA' in k},
        end={k: float(v) for k, v in end.items() if 'mA' in k},
        categories=args.categories,
        train_scenes=args.train_scenes,
        val_scenes=args.val_scenes,
        scene_settings='paper' if args.paper_scenes else SMALL_SCENES,
    )
    print(json.dumps(res, indent=2))
    for key in ('mAP_0.25', 'mAP_0.50', 'object_mAP_0.25',
                'object_mAP_0.50'):
        print(f'[learnability] held-out {key}: '
              f'{res["start"].get(key, float("nan")):.4f} at start -> '
              f'{res["end"].get(key, float("nan")):.4f} after '
              f'{res["iterations"]} iterations ({t_train / 60:.1f} min)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(res, f, indent=2)
    return res


if __name__ == '__main__':
    main()
