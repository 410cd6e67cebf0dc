# Tiny VoteNet pre-training on tiny written fractal scenes, for CPU tests:
#   python tools/train.py votenet_cfg/tiny_pretrain_votenet_fractal.py \
#       --cfg-options train_dataloader.dataset.data_root=D val_dataloader.dataset.data_root=D \
#       test_dataloader.dataset.data_root=D
# (D written with scene_builder.writers.mmdet3d.write_dataset and the tiny
# scene settings of _base_/tiny.py).
_base_ = ['./pretrain_votenet_fractal.py', './_base_/tiny.py']

num_classes = 4  # categories of the tiny category file
model = dict(
    backbone=_base_.tiny_backbone,
    bbox_head=dict(
        _base_.tiny_bbox_head,
        num_classes=num_classes,
        bbox_coder=dict(num_sizes=num_classes)))

data_root = 'data/tiny_pcfractal_scenes/'
train_pipeline = [
    dict(t, num_points=_base_.tiny_num_points)
    if t['type'] == 'PointSample' else t for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, num_points=_base_.tiny_num_points)
    if t['type'] == 'PointSample' else t for t in _base_.test_pipeline
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 8
optim_wrapper = _base_.tiny_optim_wrapper
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[max_epochs],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=1)
randomness = dict(seed=0)
