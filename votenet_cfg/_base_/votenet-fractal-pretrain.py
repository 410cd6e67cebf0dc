# VoteNet detection pre-training on fractal scenes, whatever the scenes'
# source (merged with fractal-scenes.py or fractal-scenes-onthefly.py by the
# pretrain_votenet_fractal*.py configs): mmdet3d's VoteNet, 3x schedule and
# runtime, one class per fractal category, the pre-training target below.
_base_ = [
    "mmdet3d::_base_/models/votenet.py",
    "mmdet3d::_base_/schedules/schedule-3x.py",
    "mmdet3d::_base_/default_runtime.py",
]
from pcfractal.mmdet3d.recipes import target_head  # noqa: E402

custom_imports = dict(imports=["pcfractal.mmdet3d"], allow_failed_imports=False)

# One detection class per fractal category (PC-FractalDB-1k). For a category
# file of N categories: --cfg-options model.bbox_head.num_classes=N (and, with
# size_mode='per_category', model.bbox_head.bbox_coder.num_sizes=N);
# tools/train.py checks they match.
num_classes = 1000

# The pre-training target (recipes.target_head; chosen by measurement, see
# docs/TRAINING.md "The pre-training target"):
#   box_mode  'rotated'       rotated boxes, 12 heading bins (SUN RGB-D's way)
#             'axis_aligned'  axis-aligned boxes of the objects' points
#                             (ScanNet's way: no heading, mask vote targets)
#             'no_heading'    rotated boxes, heading losses off
#   size_mode 'shared'        one size class (mean 1 m) for every category
#             'per_category'  one size class per category (VoteNet's way)
# Another target: a config that inherits a pretrain_votenet_fractal*.py and
# calls recipes.fractal_target(_base_, box_mode=..., size_mode=...), like
# pretrain_votenet_fractal_object.py.
# Measured (benchmarks/bench_votenet_learnability.py, 6 targets x 2 seeds):
# the heading-class loss stays at chance (ln 12) with rotated boxes, the
# per-category size-class loss repeats the semantic loss, and no_heading +
# shared reached the best held-out mAP, at IoU 0.5 most clearly.
box_mode = "no_heading"
size_mode = "shared"

# Bounded evaluation with 1,000 classes: each kept proposal is scored for its
# 5 most probable classes (class-aware top-k, FractalVoteHead) instead of
# being copied once per class (mmdet3d's per_class_proposal: 1,000 copies).
max_classes_per_proposal = 5

model = dict(
    bbox_head=target_head(num_classes, box_mode, size_mode),
    test_cfg=dict(per_class_proposal=True, max_classes_per_proposal=max_classes_per_proposal),
)

# validate (on val_scenes held-out scenes) and save every 4 epochs; the last
# 3 checkpoints and the last epoch are kept (--resume continues from them)
train_cfg = dict(val_interval=4)
default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=4, max_keep_ckpts=3, save_last=True))
auto_scale_lr = dict(enable=False, base_batch_size=64)
