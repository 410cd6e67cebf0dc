# VoteNet detection pre-training on fractal scenes, whatever the scenes'
# source (merged with fractal-scenes.py or fractal-scenes-onthefly.py by the
# pretrain_votenet_fractal*.py configs): mmdet3d's VoteNet, 3x schedule and
# runtime, one class per fractal category with rotated boxes.
_base_ = [
    'mmdet3d::_base_/models/votenet.py',
    'mmdet3d::_base_/schedules/schedule-3x.py',
    'mmdet3d::_base_/default_runtime.py',
]
custom_imports = dict(imports=['pcfractal.mmdet3d'], allow_failed_imports=False)

# One detection class per fractal category (PC-FractalDB-1k). For a category
# file of N categories: --cfg-options model.bbox_head.num_classes=N
# model.bbox_head.bbox_coder.num_sizes=N (tools/train.py checks they match).
num_classes = 1000
model = dict(
    bbox_head=dict(
        num_classes=num_classes,
        # rotated boxes: 12 heading bins, vote targets from points_in_boxes_all
        # (SUN RGB-D style); every category has the same size distribution,
        # mean box 1 x 1 x 1 m (PCFRACTALDB.md: s ~ U[0.75, 1.25])
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
