"""Convert a facebookresearch/votenet checkpoint (e.g. the authors' published
PC-FractalDB VoteNet, ``pcfractaldb_votenet_weight.tar``) to mmdet3d's
VoteNet keys, checked against a config's model.

    python tools/convert_votenet_checkpoint.py SRC.tar DST.pth
        [--config votenet_cfg/scannet_votenet_paper_finetune_authors.py]
        [--backbone-only] [--with-predictor]

then fine-tune from it::

    python tools/train.py votenet_cfg/scannet_votenet_paper_finetune_authors.py
    # (reads checkpoints/pcfractaldb_votenet_mmdet3d.pth; another path:
    #  --cfg-options model.backbone.init_cfg.checkpoint=DST.pth)

Converted: the backbone (always), the vote module, the vote aggregation and
the predictor's shared layers (unless ``--backbone-only``); with
``--with-predictor`` also the last predictor layer, split into mmdet3d's
classification and regression layers for the config's numbers of classes,
heading bins and size classes (only meaningful when the checkpoint was
trained on the same classes). The converted keys and shapes are checked
against the config's model (default: the ScanNetV2 paper fine-tuning
config); a checkpoint trained with other inputs (e.g. colour) or widths is
refused with the first mismatching key. Key mapping:
``pcfractal/mmdet3d/votenet_checkpoint.py``.

SRC is unpickled in full (it holds that code's optimizer state): convert
only files you trust.
"""

from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, _ROOT)

DEFAULT_CONFIG = osp.join("votenet_cfg", "scannet_votenet_paper_finetune_authors.py")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="tools/convert_votenet_checkpoint.py", description="facebookresearch/votenet checkpoint -> mmdet3d VoteNet checkpoint"
    )
    p.add_argument("src", help="facebookresearch/votenet checkpoint (checkpoint.tar, pcfractaldb_votenet_weight.tar)")
    p.add_argument("dst", help="output .pth (mmengine checkpoint)")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="config whose model the result must fit (default: %(default)s)")
    p.add_argument("--backbone-only", action="store_true", help="convert the backbone only")
    p.add_argument("--with-predictor", action="store_true", help="also convert the last predictor layer, for the config's classes")
    return p.parse_args(argv)


def _model_of(config: str):
    from mmdet3d.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import pcfractal.mmdet3d  # noqa: F401

    init_default_scope("mmdet3d")
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from pcfractal.mmdet3d.votenet_checkpoint import convert_checkpoint

    try:
        cfg, model = _model_of(args.config)
        predictor = None
        if args.with_predictor:
            head = cfg.model.bbox_head
            predictor = (head.num_classes, head.bbox_coder.num_dir_bins, head.bbox_coder.num_sizes)
        if osp.dirname(osp.abspath(args.dst)):
            os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
        report = convert_checkpoint(args.src, args.dst, head=not args.backbone_only, predictor=predictor, reference=model.state_dict())
    except (OSError, ValueError) as e:
        print(f"convert_votenet_checkpoint: error: {e}", file=sys.stderr)
        return 2
    print(
        f"{args.dst}: {report['converted']} tensors converted"
        f"{' (epoch ' + str(report['epoch']) + ')' if report['epoch'] else ''}"
        f"; left out: {', '.join(report['skipped']) or 'nothing'}; keys "
        f"and shapes match {args.config}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
