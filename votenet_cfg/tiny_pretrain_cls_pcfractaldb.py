# Tiny classification pre-training (tiny backbone of _base_/tiny.py +
# classifier head) on a few PC-FractalDB instances built on the fly, for CPU
# tests. Its backbone transfers to the tiny_*_finetune configs.
_base_ = ["./pretrain_cls_pcfractaldb.py", "./_base_/tiny.py"]
from pcfractal.mmdet3d.tiny_configs import tiny_schedule  # noqa: E402

num_classes = 4
model = dict(backbone=_base_.tiny_backbone, num_classes=num_classes, feat_channels=64, hidden_channels=(64,))

category_file = "data/tiny_pcfractal/categories.json"
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(category_file=category_file, instances_per_category=4, instance_settings=_base_.tiny_instance_settings),
)
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(category_file=category_file, instances_per_category=2, start_instance=4, instance_settings=_base_.tiny_instance_settings),
)
test_dataloader = val_dataloader

# the parent's optimizer, and its cosine decay over the tiny max_epochs
max_epochs = 4
globals().update(tiny_schedule(max_epochs))  # train_cfg, default_hooks, ...
param_scheduler = [dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)]
