# Tiny VoteNet pre-training on tiny fractal scenes built on the fly, for CPU
# tests:
#   python tools/train.py votenet_cfg/tiny_pretrain_votenet_fractal_onthefly.py \
#       --cfg-options train_dataloader.dataset.category_file=C \
#       val_dataloader.dataset.category_file=C test_dataloader.dataset.category_file=C
_base_ = ["./pretrain_votenet_fractal_onthefly.py", "./_base_/tiny.py"]
from pcfractal.mmdet3d.tiny_configs import shrink_pipeline, tiny_schedule, tiny_votenet  # noqa: E402

num_classes = 4
model = tiny_votenet(_base_, num_classes)

category_file = "data/tiny_pcfractal/categories.json"
train_pipeline = shrink_pipeline(_base_.train_pipeline, _base_.tiny_num_points)
test_pipeline = shrink_pipeline(_base_.test_pipeline, _base_.tiny_num_points)
_scenes = dict(category_file=category_file, scene_settings=_base_.tiny_scene_settings, instance_settings=_base_.tiny_instance_settings)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(_scenes, num_scenes=8, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, dataset=dict(_scenes, num_scenes=2, start_index=8, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 8
optim_wrapper = _base_.tiny_optim_wrapper
globals().update(tiny_schedule(max_epochs))  # train_cfg, param_scheduler, ...
