"""What the votenet_cfg/ configs derive from their parents: training recipes,
the fractal pre-training target, limited-data subsets, checkpoint policy.

An mmengine (old-style) config can neither inherit a function nor, in one
base, read a sibling base's values, and mmengine refuses the same key in two
bases; so the pieces a config derives live here, and a config imports them
right after its ``_base_`` line (mmengine reads a config whose first
statement is ``_base_`` as an old-style config and leaves imported functions
out of the resolved config)::

    _base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']
    from pcfractal.mmdet3d.recipes import paper_recipe  # noqa: E402

    globals().update(paper_recipe())

Each function returns the config keys to set; a dict value is merged into
the parent's (mmengine's usual inheritance), a list replaces it.
"""

from __future__ import annotations

import copy
from typing import Optional

__all__ = [
    "PAPER_RECIPE",
    "BOX_MODES",
    "SIZE_MODES",
    "paper_recipe",
    "keep_best_checkpoints",
    "fractal_target",
    "target_head",
    "target_pipeline",
    "limited_data",
]

# facebookresearch/votenet's train.py defaults (the paper's scratch row)
PAPER_RECIPE = dict(
    lr=1e-3,
    weight_decay=0.0,
    batch_size=8,
    max_epochs=180,
    lr_steps=(80, 120, 160),
    lr_gamma=0.1,
    bn_momentum=dict(init=0.5, decay=0.5, step=20, minimum=0.001),
    val_interval=10,
)

BOX_MODES = ("rotated", "axis_aligned", "no_heading")
# mmdet3d's _base_/models/votenet.py
VOTENET_LOSS_WEIGHTS = dict(dir_class_loss=1.0, dir_res_loss=10.0)
SIZE_MODES = ("shared", "per_category")


def keep_best_checkpoints(interval: int, metric: str = "mAP_0.25") -> dict:
    """Checkpoint policy of the fine-tuning and scratch configs: every
    ``interval`` epochs (the last two kept, so ``--resume`` always finds
    one), the last epoch, and the best epoch by ``metric`` on the val split
    (``best_<metric>_epoch_N.pth``). Keys: default_hooks."""
    return dict(
        default_hooks=dict(
            checkpoint=dict(
                type="CheckpointHook", interval=int(interval), max_keep_ckpts=2, save_last=True, save_best=metric, rule="greater"
            )
        )
    )


def paper_recipe(max_epochs: int = PAPER_RECIPE["max_epochs"]) -> dict:
    """facebookresearch/votenet's recipe, on mmdet3d's VoteNet and data
    pipelines: Adam (lr 1e-3, no weight decay, no gradient clipping), batch 8
    on one GPU, ``max_epochs`` (180) epochs over the training scenes once each
    (mmdet3d's RepeatDataset x5 off), lr x0.1 at epochs 80, 120 and 160,
    batch-norm momentum max(0.5 * 0.5 ** (epoch // 20), 0.001)
    (``BNMomentumHook``), validation every 10 epochs, best and last
    checkpoints kept. Keys: optim_wrapper, param_scheduler, train_cfg,
    train_dataloader, custom_hooks, default_hooks, auto_scale_lr,
    recipe."""
    r = PAPER_RECIPE
    steps = [s for s in r["lr_steps"] if s < max_epochs]
    return dict(
        recipe="paper",
        optim_wrapper=dict(_delete_=True, type="OptimWrapper", optimizer=dict(type="Adam", lr=r["lr"], weight_decay=r["weight_decay"])),
        param_scheduler=[dict(type="MultiStepLR", begin=0, end=max_epochs, by_epoch=True, milestones=steps, gamma=r["lr_gamma"])],
        train_cfg=dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=r["val_interval"]),
        train_dataloader=dict(batch_size=r["batch_size"], dataset=dict(times=1)),
        custom_hooks=[dict(type="BNMomentumHook", **r["bn_momentum"])],
        auto_scale_lr=dict(enable=False, base_batch_size=r["batch_size"]),
        **keep_best_checkpoints(r["val_interval"]),
    )


# ---------------------------------------------------------------------------
# the fractal pre-training target


def _check(value, allowed, what):
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, got {value!r}")
    return value


def target_head(num_classes: int, box_mode: str, size_mode: str) -> dict:
    """The VoteHead settings of a pre-training target (merged into
    ``model.bbox_head``).

    * box_mode 'rotated': rotated boxes, 12 heading bins, vote targets from
      the boxes (SUN RGB-D's convention);
      'axis_aligned': axis-aligned boxes of the objects' points, no heading
      (``with_rot=False``, 1 bin), vote targets from the instance masks
      (ScanNet's convention);
      'no_heading': rotated boxes and vote targets as 'rotated', the heading
      losses weighted 0 (the predicted heading is untrained).
    * size_mode 'shared': one size class for every category (mean 1 m);
      'per_category': one size class per category (VoteNet's convention;
      all with the same 1 m mean, so its loss repeats the semantic loss).
    """
    _check(box_mode, BOX_MODES, "box_mode")
    _check(size_mode, SIZE_MODES, "size_mode")
    rotated = box_mode != "axis_aligned"
    head = dict(
        type="FractalVoteHead",
        num_classes=int(num_classes),
        bbox_coder=dict(
            type="UniformSizeBBoxCoder",
            num_sizes=1 if size_mode == "shared" else int(num_classes),
            num_dir_bins=12 if rotated else 1,
            mean_size=[1.0, 1.0, 1.0],
            with_rot=rotated,
        ),
    )
    # set in every mode (a config merges this into its parent's head, which
    # may carry another mode's weights); VoteNet's weights are 1 and 10
    off = box_mode == "no_heading"
    head["dir_class_loss"] = dict(loss_weight=0.0 if off else VOTENET_LOSS_WEIGHTS["dir_class_loss"])
    head["dir_res_loss"] = dict(loss_weight=0.0 if off else VOTENET_LOSS_WEIGHTS["dir_res_loss"])
    return head


_MASK_KEYS = ["pts_semantic_mask", "pts_instance_mask"]


def target_pipeline(pipeline: list, box_mode: str, train: bool) -> list:
    """``pipeline`` for ``box_mode``: 'axis_aligned' inserts
    ``AxisAlignFractalBoxes`` (after ``GlobalRotScaleTrans`` in training, after
    the loading steps in testing) and packs the masks; other modes remove
    it. Idempotent."""
    _check(box_mode, BOX_MODES, "box_mode")
    out = []
    for t in pipeline:
        t = copy.deepcopy(dict(t))
        if t["type"] == "AxisAlignFractalBoxes":
            continue
        if t["type"] == "Pack3DDetInputs":
            keys = [k for k in t["keys"] if k not in _MASK_KEYS]
            if box_mode == "axis_aligned" and train:
                keys += _MASK_KEYS
            t["keys"] = keys
        out.append(t)
    if box_mode != "axis_aligned":
        return out
    step = dict(type="AxisAlignFractalBoxes")
    types = [t["type"] for t in out]
    if train and "GlobalRotScaleTrans" in types:
        at = types.index("GlobalRotScaleTrans") + 1
    else:
        loaders = [i for i, t in enumerate(types) if t.startswith("Load") or t == "LoadFractalScene"]
        at = (max(loaders) + 1) if loaders else 0
    out.insert(at, step)
    return out


def fractal_target(base, box_mode: Optional[str] = None, size_mode: Optional[str] = None, num_classes: Optional[int] = None) -> dict:
    """The keys a fractal pre-training config sets for its target: the head
    (``target_head``) and the pipelines of its loaders
    (``target_pipeline``). ``base`` is the config's ``_base_`` (or a loaded
    Config); the modes and class count default to its ``box_mode``,
    ``size_mode`` and ``num_classes``. Keys: box_mode, size_mode,
    num_classes, model, train_pipeline, test_pipeline, train/val/
    test_dataloader."""
    get = base.get if hasattr(base, "get") else lambda k, d=None: getattr(base, k, d)
    box_mode = box_mode or get("box_mode", "no_heading")
    size_mode = size_mode or get("size_mode", "shared")
    num_classes = int(num_classes or get("num_classes"))
    train_pipeline = target_pipeline(get("train_pipeline"), box_mode, True)
    test_pipeline = target_pipeline(get("test_pipeline"), box_mode, False)
    return dict(
        box_mode=box_mode,
        size_mode=size_mode,
        num_classes=num_classes,
        model=dict(bbox_head=target_head(num_classes, box_mode, size_mode)),
        train_pipeline=train_pipeline,
        test_pipeline=test_pipeline,
        train_dataloader=dict(dataset=dict(pipeline=train_pipeline)),
        val_dataloader=dict(dataset=dict(pipeline=test_pipeline)),
        test_dataloader=dict(dataset=dict(pipeline=test_pipeline)),
    )


# ---------------------------------------------------------------------------
# limited-data fine-tuning


def limited_data(base, fraction: float, seed: int = 0) -> dict:
    """Fine-tune on a seeded subset of the training scenes, made by
    ``python tools/make_subset.py INFO --fraction F --seed S`` (its default
    output name is read here). Iteration policy: same iterations as on the
    whole data: the subset is repeated ``round(1 / fraction)`` times per
    epoch, so the epoch-based schedule (learning-rate steps, batch-norm
    momentum decay, validation, checkpoints) is the parent's unchanged.
    Keys: subset_fraction, subset_seed, train_dataloader."""
    from .subsets import repeat_times, subset_name

    get = base.get if hasattr(base, "get") else lambda k, d=None: getattr(base, k, d)
    inner = get("train_dataloader")["dataset"]["dataset"]
    ann = subset_name(inner["ann_file"], fraction, seed)
    return dict(
        subset_fraction=float(fraction),
        subset_seed=int(seed),
        train_dataloader=dict(dataset=dict(times=repeat_times(fraction), dataset=dict(ann_file=ann))),
    )
