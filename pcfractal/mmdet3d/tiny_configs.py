"""What the tiny_* configs of votenet_cfg/ derive from their real parent.

A tiny config is a real config (its first ``_base_``) made small for CPU
tests with the values of ``votenet_cfg/_base_/tiny.py`` (its second
``_base_``). The derivation is the same whatever the parent, but an mmengine
(old-style) config can neither inherit a function nor read, in a base, the
values of a sibling base; so it lives here, and a tiny config imports it right
after its ``_base_`` line (mmengine reads a config whose first statement is
``_base_`` as an old-style config, and leaves imported functions out of the
resolved config, which thus holds exactly what the config sets)::

    _base_ = ['./scannet_votenet_paper_finetune.py', './_base_/tiny.py']
    from pcfractal.mmdet3d.tiny_configs import tiny_finetune  # noqa: E402

    globals().update(tiny_finetune(_base_, data_root='data/tiny_scannet/'))

``base`` is the config's ``_base_`` (its parent merged with tiny.py).
"""

from __future__ import annotations

# where tools/train.py writes the tiny detection pre-training's last
# checkpoint (work_dirs/<config>/epoch_<max_epochs>.pth)
TINY_PRETRAINED = "work_dirs/tiny_pretrain_votenet_fractal/epoch_8.pth"


def shrink_pipeline(pipeline, num_points: int) -> list:
    """``pipeline`` with every PointSample (also those inside a
    MultiScaleFlipAug3D) sampling ``num_points``; the other steps are the
    parent's own (the same objects)."""
    out = []
    for t in pipeline:
        if t["type"] == "PointSample":
            t = dict(t, num_points=num_points)
        elif t["type"] == "MultiScaleFlipAug3D":
            t = dict(t, transforms=shrink_pipeline(t["transforms"], num_points))
        out.append(t)
    return out


def tiny_votenet(base, num_classes: int) -> dict:
    """The tiny VoteNet with one head class per category and the parent's
    pre-training target (``box_mode``, ``size_mode``), merged into the
    parent's model."""
    from .recipes import target_head

    head = target_head(num_classes, base.box_mode, base.size_mode)
    return dict(backbone=base.tiny_backbone, bbox_head=dict(head, **base.tiny_bbox_head))


def tiny_schedule(max_epochs: int) -> dict:
    """The tiny schedule, merged into the parent's: ``max_epochs`` epochs at
    a constant learning rate (the MultiStepLR's one milestone is the last
    epoch), validation and one checkpoint at the end, a log line every
    iteration, seed 0. Keys: train_cfg, param_scheduler, default_hooks,
    log_processor, randomness."""
    return dict(
        train_cfg=dict(max_epochs=max_epochs, val_interval=max_epochs),
        param_scheduler=[dict(type="MultiStepLR", begin=0, end=max_epochs, by_epoch=True, milestones=[max_epochs], gamma=0.1)],
        default_hooks=dict(logger=dict(type="LoggerHook", interval=1), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1)),
        log_processor=dict(window_size=1),
        randomness=dict(seed=0),
    )


def tiny_finetune(base, data_root: str, max_epochs: int = 24) -> dict:
    """A tiny fine-tuning on a tiny ScanNet / SUN RGB-D-format dataset at
    ``data_root`` (the parent's RepeatDataset repeated once): tiny model with
    the backbone of the tiny pre-training (``pretrained``), the parent's
    pipelines shrunk to ``tiny_num_points``, batch 2 in the main process,
    AdamW of tiny.py, the tiny schedule, and mAP over the classes present in
    the toy evaluation set (mmdet3d's IndoorMetric gives NaN when a class is
    predicted but absent from the ground truth). Keys: pretrained, model,
    data_root, train/test_pipeline, train/val/test_dataloader,
    val/test_evaluator, max_epochs, optim_wrapper and those of
    :func:`tiny_schedule`."""
    train_pipeline = shrink_pipeline(base.train_pipeline, base.tiny_num_points)
    test_pipeline = shrink_pipeline(base.test_pipeline, base.tiny_num_points)
    val_dataloader = dict(num_workers=0, dataset=dict(data_root=data_root, pipeline=test_pipeline))
    val_evaluator = dict(type="PresentClassesIndoorMetric", class_agnostic=False)
    return dict(
        pretrained=TINY_PRETRAINED,
        model=dict(backbone=dict(base.tiny_backbone, init_cfg=dict(checkpoint=TINY_PRETRAINED)), bbox_head=base.tiny_bbox_head),
        data_root=data_root,
        train_pipeline=train_pipeline,
        test_pipeline=test_pipeline,
        train_dataloader=dict(
            batch_size=2, num_workers=0, dataset=dict(times=1, dataset=dict(data_root=data_root, pipeline=train_pipeline))
        ),
        val_dataloader=val_dataloader,
        test_dataloader=val_dataloader,
        val_evaluator=val_evaluator,
        test_evaluator=val_evaluator,
        max_epochs=max_epochs,
        optim_wrapper=base.tiny_optim_wrapper,
        **tiny_schedule(max_epochs),
    )
