"""Train a model from a votenet_cfg/ config with mmengine's Runner (CPU or GPU).

    python tools/train.py votenet_cfg/NAME.py [--work-dir D] [--cfg-options K=V ...]
                          [--resume [CKPT]] [--amp] [--auto-scale-lr]
                          [--launcher {none,pytorch,slurm,mpi}]

Multi-GPU with mmengine's usual launchers, e.g. on one machine with 8 GPUs::

    torchrun --nproc_per_node=8 tools/train.py votenet_cfg/NAME.py --launcher pytorch

Without CUDA the Runner trains on the CPU (pcfractal.mmdet3d supplies CPU
versions of mmcv's point ops); a distributed run without CUDA uses the gloo
backend. The work dir defaults to ./work_dirs/NAME; mmengine writes the
checkpoints (epoch_N.pth, best_mAP_0.25_epoch_N.pth for the fine-tuning
configs, last_checkpoint), logs and the dumped config there. ``--resume``
continues an interrupted run from the newest checkpoint of the work dir.

The fractal pre-training configs read the build folder of
``tools/build_pcfractal.py build --preset paper --out data/pcfractal``
(``data/pcfractal/categories/``, ``data/pcfractal/scenes/``); set
``PCFRACTAL_ROOT=DIR`` for another one. The reproduction of the paper's
table drives this tool: tools/reproduce.py.
"""

from __future__ import annotations

import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, _ROOT)

# the options and config loading shared with tools/test.py (load_config is
# also what the benchmarks use, as train.load_config)
from pcfractal.mmdet3d.runner import load_config, parse_run_args, run_parser, runner_from_cfg  # noqa: E402,F401


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = run_parser(
        "tools/train.py",
        "Train a detector or classifier from a votenet_cfg/ config (mmengine Runner).",
        "training",
        "where logs and checkpoints go",
    )
    parser.add_argument(
        "--resume", nargs="?", type=str, const="auto", help="resume from CKPT, or (no value) from the latest checkpoint in the work dir"
    )
    parser.add_argument("--amp", action="store_true", help="automatic mixed precision (GPU)")
    parser.add_argument(
        "--auto-scale-lr", action="store_true", help="scale the learning rate by the real batch size over auto_scale_lr.base_batch_size"
    )
    return parse_run_args(parser, argv)


def check_num_classes(runner) -> None:
    """Fail early, with the fix, when the detection head has fewer classes
    than the training data (a wrong label would otherwise surface as an index
    error deep inside the loss)."""
    head = runner.cfg.model.get("bbox_head") or {}
    n_model = head.get("num_classes", runner.cfg.model.get("num_classes"))
    if n_model is None:
        return
    meta = getattr(runner.train_dataloader.dataset, "metainfo", {}) or {}
    classes = meta.get("classes")
    if classes and len(classes) > n_model:
        # one size class per category (size_mode='per_category') grows too;
        # one shared size class (size_mode='shared') does not
        coder = head.get("bbox_coder") or {}
        sizes = " model.bbox_head.bbox_coder.num_sizes=" + str(len(classes)) if coder.get("num_sizes", 1) > 1 else ""
        key = "model.bbox_head.num_classes" if "bbox_head" in runner.cfg.model else "model.num_classes"
        raise ValueError(
            f"the training data has {len(classes)} classes but the model predicts {n_model}: add --cfg-options {key}={len(classes)}{sizes}"
        )


def build_runner(args: argparse.Namespace):
    """The mmengine Runner of a parsed command line (not started)."""
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp:
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.loss_scale = "dynamic"
    if args.auto_scale_lr:
        if "auto_scale_lr" not in cfg or "base_batch_size" not in cfg.auto_scale_lr:
            raise RuntimeError("--auto-scale-lr needs auto_scale_lr with base_batch_size in the config")
        cfg.auto_scale_lr.enable = True
    if args.resume == "auto":
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return runner_from_cfg(cfg)


def main(argv: Optional[Sequence[str]] = None):
    """Train; returns the trained model."""
    args = parse_args(argv)
    runner = build_runner(args)
    check_num_classes(runner)
    return runner.train()


if __name__ == "__main__":
    main()
