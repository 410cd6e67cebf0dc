"""Convert facebookresearch/votenet checkpoints to mmdetection3d's VoteNet.

The authors of PC-FractalDB pre-trained and fine-tuned with
facebookresearch/votenet's code and published their VoteNet checkpoint in
that code's format (``models/pcfractaldb_votenet_weight.tar``): a dict with
``model_state_dict`` (and ``optimizer_state_dict``, ``epoch``, ``loss``),
whose keys name that code's modules. This module maps them onto the keys
of mmdet3d 1.4's ``VoteNet`` (``PointNet2SASSG`` + ``VoteHead``), so the
weights fine-tune with the configs here
(``*_votenet_paper_finetune_authors.py``).

Key correspondence (read from facebookresearch/votenet's ``models/`` and
``pointnet2/``; ``i``, ``j`` layer numbers)::

    backbone_net.sa{i}.mlp_module.layer{j}.conv.weight   (C_out, C_in, 1, 1)
        -> backbone.SA_modules.{i-1}.mlps.0.layer{j}.conv.weight
    backbone_net.sa{i}.mlp_module.layer{j}.bn.bn.{p}     (C_out,)
        -> backbone.SA_modules.{i-1}.mlps.0.layer{j}.bn.{p}
    backbone_net.fp{i}.mlp.layer{j}.conv.weight / .bn.bn.{p}
        -> backbone.FP_modules.{i-1}.mlps.layer{j}.conv.weight / .bn.{p}
    vgen.conv{k}.{weight,bias} (k = 1, 2), vgen.bn{k}.{p}
        -> bbox_head.vote_module.vote_conv.{k-1}.conv.{weight,bias} / .bn.{p}
    vgen.conv3.{weight,bias}
        -> bbox_head.vote_module.conv_out.{weight,bias}
    pnet.vote_aggregation.mlp_module.layer{j}.conv.weight / .bn.bn.{p}
        -> bbox_head.vote_aggregation.mlps.0.layer{j}.conv.weight / .bn.{p}
    pnet.conv{k}.{weight,bias} (k = 1, 2), pnet.bn{k}.{p}
        -> bbox_head.conv_pred.shared_convs.layer{k-1}.conv.{weight,bias} / .bn.{p}
    pnet.conv3.{weight,bias}  (2 + 3 + 2 H + 4 S + C rows: objectness,
        centre, heading classes and residuals, size classes and residuals,
        semantic classes)
        -> bbox_head.conv_pred.conv_cls (objectness, semantic classes) and
           bbox_head.conv_pred.conv_reg (centre, heading classes, heading
           residuals, size classes, size residuals), only when the target
           head's numbers of classes C, heading bins H and size classes S are
           given and fit the rows; otherwise left out (fine-tuning on another
           dataset trains a new predictor anyway).

``{p}`` is weight, bias, running_mean, running_var, num_batches_tracked.
Both codes compute the same things with these weights: set abstraction
with xyz (divided by the radius) before the features, max pooling, 3-NN
inverse-distance feature propagation, votes = seed + offset (3 channels
first, then the feature residual), decoded residuals scaled by the same
bin width and mean sizes. A ``module.`` prefix (DataParallel) is removed.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Dict, Iterable, Optional, Tuple

import torch

__all__ = ["convert_state_dict", "load_votenet_checkpoint", "convert_checkpoint", "check_against", "BN_PARAMS"]

BN_PARAMS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
_BN = "|".join(BN_PARAMS)

# (pattern on a facebookresearch/votenet key, mmdet3d key template)
_RULES = [
    (
        re.compile(r"^backbone_net\.sa(\d)\.mlp_module\.layer(\d+)\.conv\.weight$"),
        lambda m: f"backbone.SA_modules.{int(m[1]) - 1}.mlps.0.layer{m[2]}.conv.weight",
    ),
    (
        re.compile(rf"^backbone_net\.sa(\d)\.mlp_module\.layer(\d+)\.bn\.bn\.({_BN})$"),
        lambda m: f"backbone.SA_modules.{int(m[1]) - 1}.mlps.0.layer{m[2]}.bn.{m[3]}",
    ),
    (
        re.compile(r"^backbone_net\.fp(\d)\.mlp\.layer(\d+)\.conv\.weight$"),
        lambda m: f"backbone.FP_modules.{int(m[1]) - 1}.mlps.layer{m[2]}.conv.weight",
    ),
    (
        re.compile(rf"^backbone_net\.fp(\d)\.mlp\.layer(\d+)\.bn\.bn\.({_BN})$"),
        lambda m: f"backbone.FP_modules.{int(m[1]) - 1}.mlps.layer{m[2]}.bn.{m[3]}",
    ),
    (re.compile(r"^vgen\.conv([12])\.(weight|bias)$"), lambda m: f"bbox_head.vote_module.vote_conv.{int(m[1]) - 1}.conv.{m[2]}"),
    (re.compile(rf"^vgen\.bn([12])\.({_BN})$"), lambda m: f"bbox_head.vote_module.vote_conv.{int(m[1]) - 1}.bn.{m[2]}"),
    (re.compile(r"^vgen\.conv3\.(weight|bias)$"), lambda m: f"bbox_head.vote_module.conv_out.{m[1]}"),
    (
        re.compile(r"^pnet\.vote_aggregation\.mlp_module\.layer(\d+)\.conv\.weight$"),
        lambda m: f"bbox_head.vote_aggregation.mlps.0.layer{m[1]}.conv.weight",
    ),
    (
        re.compile(rf"^pnet\.vote_aggregation\.mlp_module\.layer(\d+)\.bn\.bn\.({_BN})$"),
        lambda m: f"bbox_head.vote_aggregation.mlps.0.layer{m[1]}.bn.{m[2]}",
    ),
    (re.compile(r"^pnet\.conv([12])\.(weight|bias)$"), lambda m: f"bbox_head.conv_pred.shared_convs.layer{int(m[1]) - 1}.conv.{m[2]}"),
    (re.compile(rf"^pnet\.bn([12])\.({_BN})$"), lambda m: f"bbox_head.conv_pred.shared_convs.layer{int(m[1]) - 1}.bn.{m[2]}"),
]
_PREDICTOR = re.compile(r"^pnet\.conv3\.(weight|bias)$")


def _state_dict_of(ckpt) -> Dict[str, torch.Tensor]:
    if isinstance(ckpt, dict):
        for key in ("model_state_dict", "state_dict", "model"):
            if key in ckpt and isinstance(ckpt[key], dict):
                return ckpt[key]
        if all(isinstance(v, torch.Tensor) for v in ckpt.values()):
            return ckpt
    raise ValueError("not a facebookresearch/votenet checkpoint: expected a dict with 'model_state_dict' (or a state dict)")


def _split_predictor(
    weight: torch.Tensor, bias: torch.Tensor, num_classes: int, num_dir_bins: int, num_sizes: int
) -> Dict[str, torch.Tensor]:
    """pnet.conv3 rows -> conv_cls (objectness 2, classes C) and conv_reg
    (centre 3, heading H + H, size S + 3 S)."""
    h, s, c = num_dir_bins, num_sizes, num_classes
    rows = 2 + 3 + 2 * h + 4 * s + c
    if weight.shape[0] != rows:
        raise ValueError(
            f"pnet.conv3 has {weight.shape[0]} output rows; a head with {c} classes, {h} heading bins and {s} size classes needs {rows}"
        )
    obj, centre = slice(0, 2), slice(2, 5)
    head = slice(5, 5 + 2 * h)
    size = slice(5 + 2 * h, 5 + 2 * h + 4 * s)
    sem = slice(5 + 2 * h + 4 * s, rows)
    cls_idx = torch.cat([torch.arange(rows)[obj], torch.arange(rows)[sem]])
    reg_idx = torch.cat([torch.arange(rows)[centre], torch.arange(rows)[head], torch.arange(rows)[size]])
    return {
        "bbox_head.conv_pred.conv_cls.weight": weight[cls_idx].clone(),
        "bbox_head.conv_pred.conv_cls.bias": bias[cls_idx].clone(),
        "bbox_head.conv_pred.conv_reg.weight": weight[reg_idx].clone(),
        "bbox_head.conv_pred.conv_reg.bias": bias[reg_idx].clone(),
    }


def convert_state_dict(
    state_dict: Dict[str, torch.Tensor], head: bool = True, predictor: Optional[Tuple[int, int, int]] = None, strict: bool = True
) -> Tuple["OrderedDict[str, torch.Tensor]", dict]:
    """facebookresearch/votenet state dict -> mmdet3d VoteNet state dict.

    Args:
        state_dict: the ``model_state_dict`` of a votenet checkpoint (a
            ``module.`` prefix is removed).
        head: also convert the vote module, the vote aggregation and the
            predictor's shared layers (default True); False keeps the backbone
            only.
        predictor: (num_classes, num_dir_bins, num_sizes) of the target
            head, to split ``pnet.conv3`` into ``conv_cls`` / ``conv_reg``;
            None leaves the predictor out.
        strict: raise on a key no rule knows (default True).

    Returns:
        (new state dict, report) where report lists ``converted`` (count),
        ``skipped`` (keys left out on purpose) and ``unknown`` keys.
    """
    out: "OrderedDict[str, torch.Tensor]" = OrderedDict()
    skipped, unknown = [], []
    pred_parts = {}
    for key, value in state_dict.items():
        k = key[len("module.") :] if key.startswith("module.") else key
        m = _PREDICTOR.match(k)
        if m:
            pred_parts[m[1]] = value
            continue
        for pattern, target in _RULES:
            m = pattern.match(k)
            if m:
                new = target(m)
                if not head and not new.startswith("backbone."):
                    skipped.append(key)
                else:
                    out[new] = value.clone()
                break
        else:
            unknown.append(key)
    if pred_parts:
        if head and predictor is not None:
            out.update(_split_predictor(pred_parts["weight"], pred_parts["bias"], *predictor))
        else:
            skipped += [f"pnet.conv3.{p}" for p in sorted(pred_parts)]
    if strict and unknown:
        raise ValueError(f"{len(unknown)} keys are not facebookresearch/votenet VoteNet keys this converter knows: {unknown[:8]}")
    if not any(k.startswith("backbone.") for k in out):
        raise ValueError("no backbone key (backbone_net.*) in the checkpoint")
    return out, dict(converted=len(out), skipped=skipped, unknown=unknown)


def load_votenet_checkpoint(path: str) -> dict:
    """Read a facebookresearch/votenet checkpoint file (a ``torch.save``
    pickle such as ``checkpoint.tar``). It is unpickled in full (it holds
    the optimizer state and plain Python values): only load files you
    trust."""
    return torch.load(path, map_location="cpu", weights_only=False)


def check_against(
    state_dict: Dict[str, torch.Tensor], reference: Dict[str, torch.Tensor], prefixes: Iterable[str] = ("backbone.",)
) -> None:
    """Raise ValueError unless every key of ``reference`` under
    ``prefixes`` is in ``state_dict`` with the same shape, and every key of
    ``state_dict`` is in ``reference`` with the same shape."""
    prefixes = tuple(prefixes)
    want = {k: tuple(v.shape) for k, v in reference.items() if k.startswith(prefixes)}
    have = {k: tuple(v.shape) for k, v in state_dict.items()}
    missing = sorted(set(want) - set(have))
    extra = sorted(k for k in have if k not in reference)
    shape = sorted(k for k in have if k in reference and have[k] != tuple(reference[k].shape))
    problems = []
    if missing:
        problems.append(f"{len(missing)} keys missing, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} keys the model lacks, e.g. {extra[:3]}")
    if shape:
        k = shape[0]
        problems.append(
            f"{len(shape)} shapes differ, e.g. {k}: checkpoint "
            f"{have[k]}, model {tuple(reference[k].shape)} (another input "
            "feature count or width?)"
        )
    if problems:
        raise ValueError("; ".join(problems))


def convert_checkpoint(
    src: str,
    dst: str,
    head: bool = True,
    predictor: Optional[Tuple[int, int, int]] = None,
    reference: Optional[Dict[str, torch.Tensor]] = None,
) -> dict:
    """Convert the checkpoint file ``src`` and save an mmengine-style
    checkpoint (``{'state_dict': ..., 'meta': ...}``) at ``dst``, which
    ``init_cfg=dict(type='Pretrained', checkpoint=dst, prefix='backbone.')``
    and ``load_from`` read. With ``reference`` (a model's state dict) the
    converted keys and shapes are checked against it first. Returns the
    report of :func:`convert_state_dict` plus ``epoch``."""
    ckpt = load_votenet_checkpoint(src)
    sd, report = convert_state_dict(_state_dict_of(ckpt), head=head, predictor=predictor)
    if reference is not None:
        check_against(
            sd,
            reference,
            prefixes=("backbone.",)
            if not head
            else ("backbone.", "bbox_head.vote_module.", "bbox_head.vote_aggregation.", "bbox_head.conv_pred.shared_convs."),
        )
    epoch = ckpt.get("epoch") if isinstance(ckpt, dict) else None
    meta = dict(converted_from="facebookresearch/votenet", source=str(src), source_epoch=epoch, skipped=report["skipped"])
    torch.save(dict(state_dict=sd, meta=meta), dst)
    report["epoch"] = epoch
    return report
