# Tiny VoteNet pre-training on tiny fractal scenes built on the fly, for CPU
# tests:
#   python tools/train.py votenet_cfg/tiny_pretrain_votenet_fractal_onthefly.py \
#       --cfg-options train_dataloader.dataset.category_file=C \
#       val_dataloader.dataset.category_file=C test_dataloader.dataset.category_file=C
_base_ = ['./pretrain_votenet_fractal_onthefly.py', './_base_/tiny.py']

num_classes = 4
model = dict(
    backbone=_base_.tiny_backbone,
    bbox_head=dict(
        _base_.tiny_bbox_head,
        num_classes=num_classes,
        bbox_coder=dict(num_sizes=num_classes)))

category_file = 'data/tiny_pcfractal/categories.json'
train_pipeline = [
    dict(t, num_points=_base_.tiny_num_points)
    if t['type'] == 'PointSample' else t for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, num_points=_base_.tiny_num_points)
    if t['type'] == 'PointSample' else t for t in _base_.test_pipeline
]
_scenes = dict(
    category_file=category_file,
    scene_settings=_base_.tiny_scene_settings,
    instance_settings=_base_.tiny_instance_settings)
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(_scenes, num_scenes=8, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    dataset=dict(
        _scenes, num_scenes=2, start_index=8, pipeline=test_pipeline))
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
