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
import os.path as osp
import sys
from typing import Optional, Sequence

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, _ROOT)

# the options and config loading shared with tools/train.py
from pcfractal.mmdet3d.runner import load_config, parse_run_args, run_parser, runner_from_cfg  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = run_parser(
        "tools/test.py", "Evaluate a checkpoint on the test set of a votenet_cfg/ config.", "testing", "where the evaluation log goes"
    )
    parser.add_argument("checkpoint", help="checkpoint file (.pth)")
    parser.add_argument("--out", help="also write the metrics to this JSON file")
    return parse_run_args(parser, argv)


def build_runner(args: argparse.Namespace):
    """The Runner that evaluates ``args.checkpoint`` (not started)."""
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f"{args.checkpoint}: no such checkpoint")
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    # a test run must not re-initialise the backbone from a pre-training
    # checkpoint on top of the evaluated weights' loading
    backbone = cfg.model.get("backbone") or {}
    if isinstance(backbone, dict) and backbone.get("init_cfg"):
        backbone["init_cfg"] = None
    return runner_from_cfg(cfg)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Evaluate; returns the metrics dict (also printed)."""
    args = parse_args(argv)
    runner = build_runner(args)
    metrics = runner.test()
    metrics = {k: float(v) if hasattr(v, "__float__") else v for k, v in metrics.items()}
    keys = [k for k in ("mAP_0.25", "mAP_0.50", "object_mAP_0.25", "object_mAP_0.50", "cls/top1", "cls/top5") if k in metrics]
    print("[test] " + "  ".join(f"{k}={metrics[k]:.4f}" for k in keys))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=2, sort_keys=True)
    return metrics


if __name__ == "__main__":
    main()
