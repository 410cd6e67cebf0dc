# Tiny classification pre-training (tiny backbone of _base_/tiny.py +
# classifier head) on a few PC-FractalDB instances built on the fly, for CPU
# tests. Its backbone transfers to the tiny_*_finetune configs.
_base_ = ['./pretrain_cls_pcfractaldb.py', './_base_/tiny.py']

num_classes = 4
model = dict(
    backbone=_base_.tiny_backbone,
    num_classes=num_classes,
    feat_channels=64,
    hidden_channels=(64, ))

category_file = 'data/tiny_pcfractal/categories.json'
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        category_file=category_file,
        instances_per_category=4,
        instance_settings=_base_.tiny_instance_settings))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        category_file=category_file,
        instances_per_category=2,
        start_instance=4,
        instance_settings=_base_.tiny_instance_settings))
test_dataloader = val_dataloader

max_epochs = 4
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=1)
randomness = dict(seed=0)
