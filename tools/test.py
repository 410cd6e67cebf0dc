"""Evaluate a checkpoint on a config's test set with mmengine's Runner.

    python tools/test.py votenet_cfg/NAME.py CHECKPOINT [--work-dir D]
                         [--cfg-options K=V ...] [--out metrics.json]
                         [--launcher {none,pytorch,slurm,mpi}]

Detection configs report IndoorMetric's mAP / mAR at IoU 0.25 and 0.5
(``mAP_0.25``, ``mAP_0.50``; fractal scenes also ``object_mAP_*``), the
classification configs top-1 / top-5 accuracy. Multi-GPU::

    torchrun --nproc_per_node=8 tools/test.py votenet_cfg/NAME.py CKPT --launcher pytorch
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
from typing import Optional, Sequence

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
_TOOLS = osp.dirname(osp.abspath(__file__))
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        prog='tools/test.py',
        description='Evaluate a checkpoint on the test set of a votenet_cfg/ '
        'config.')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument(
        '--work-dir', help='where the evaluation log goes '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--out', help='also write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher for distributed testing')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_runner(args: argparse.Namespace):
    """The Runner that evaluates ``args.checkpoint`` (not started)."""
    from mmengine.runner import Runner

    from train import load_config

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'{args.checkpoint}: no such checkpoint')
    cfg = load_config(args.config, args.cfg_options, args.launcher,
                      args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    # a test run must not re-initialise the backbone from a pre-training
    # checkpoint on top of the evaluated weights' loading
    backbone = cfg.model.get('backbone') or {}
    if isinstance(backbone, dict) and backbone.get('init_cfg'):
        backbone['init_cfg'] = None
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Evaluate; returns the metrics dict (also printed)."""
    args = parse_args(argv)
    runner = build_runner(args)
    metrics = runner.test()
    metrics = {k: float(v) if hasattr(v, '__float__') else v
               for k, v in metrics.items()}
    keys = [k for k in ('mAP_0.25', 'mAP_0.50', 'object_mAP_0.25',
                        'object_mAP_0.50', 'cls/top1', 'cls/top5')
            if k in metrics]
    print('[test] ' + '  '.join(f'{k}={metrics[k]:.4f}' for k in keys))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(metrics, f, indent=2, sort_keys=True)
    return metrics


if __name__ == '__main__':
    main()
