# VoteNet pre-training on fractal scenes built on the fly inside the data
# loader (nothing written to disk; only the category file is read).
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal_onthefly.py
# Same model and schedule as pretrain_votenet_fractal.py.
_base_ = [
    'mmdet3d::_base_/models/votenet.py',
    'mmdet3d::_base_/schedules/schedule-3x.py',
    'mmdet3d::_base_/default_runtime.py',
    './_base_/fractal-scenes-onthefly.py',
]
custom_imports = dict(imports=['pcfractal.mmdet3d'], allow_failed_imports=False)

num_classes = 1000  # = categories in category_file
model = dict(
    bbox_head=dict(
        num_classes=num_classes,
        bbox_coder=dict(
            type='UniformSizeBBoxCoder',
            num_sizes=num_classes,
            num_dir_bins=12,
            mean_size=[1.0, 1.0, 1.0],
            with_rot=True)))

train_cfg = dict(val_interval=4)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', interval=4, max_keep_ckpts=3, save_last=True))
auto_scale_lr = dict(enable=False, base_batch_size=64)
