"""What tools/train.py and tools/test.py share: the command-line options every
run takes, reading a votenet_cfg/ config with its overrides, and building the
mmengine Runner of a config."""

from __future__ import annotations

import argparse
import os
import os.path as osp
from typing import Optional, Sequence


def run_parser(prog: str, description: str, job: str, work_dir_help: str) -> argparse.ArgumentParser:
    """A parser with the options of every run: the config (first positional
    argument), ``--work-dir``, ``--cfg-options``, ``--launcher`` (for
    distributed ``job``, e.g. 'training') and the launchers'
    ``--local_rank``."""
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("config", help="config file, e.g. votenet_cfg/pretrain_votenet_fractal.py")
    parser.add_argument("--work-dir", help=f"{work_dir_help} (default: ./work_dirs/<config name>)")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        help="override config entries, key=value (nested keys with dots, e.g. model.backbone.init_cfg.checkpoint=ckpt.pth)",
    )
    parser.add_argument(
        "--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none", help=f"job launcher for distributed {job}"
    )
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)
    return parser


def parse_run_args(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse, and pass the launcher's ``--local_rank`` on as LOCAL_RANK
    (unless the launcher set it)."""
    args = parser.parse_args(argv)
    if "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)
    return args


def load_config(config: str, cfg_options: Optional[dict] = None, launcher: str = "none", work_dir: Optional[str] = None):
    """Read a config, apply overrides, fill in the work dir and the launcher,
    and pick the gloo backend when a distributed run has no CUDA."""
    import torch
    from mmengine.config import Config

    import pcfractal.mmdet3d  # noqa: F401  registers datasets, CPU ops

    if not osp.isfile(config):
        raise FileNotFoundError(f"{config}: no such config; the configs are in votenet_cfg/")
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = osp.join("./work_dirs", osp.splitext(osp.basename(config))[0])
    if launcher != "none" and not torch.cuda.is_available():
        cfg.setdefault("env_cfg", {}).setdefault("dist_cfg", {})
        cfg.env_cfg.dist_cfg["backend"] = "gloo"
    return cfg


def runner_from_cfg(cfg):
    """The Runner of ``cfg`` (its ``runner_type`` if it names one), not
    started."""
    if "runner_type" in cfg:
        from mmengine.registry import RUNNERS

        return RUNNERS.build(cfg)
    from mmengine.runner import Runner

    return Runner.from_cfg(cfg)
