# Tiny VoteNet pre-training on tiny written fractal scenes, for CPU tests:
#   python tools/train.py votenet_cfg/tiny_pretrain_votenet_fractal.py \
#       --cfg-options train_dataloader.dataset.data_root=D val_dataloader.dataset.data_root=D \
#       test_dataloader.dataset.data_root=D
# (D written with scene_builder.writers.mmdet3d.write_dataset and the tiny
# scene settings of _base_/tiny.py).
_base_ = ["./pretrain_votenet_fractal.py", "./_base_/tiny.py"]
from pcfractal.mmdet3d.tiny_configs import shrink_pipeline, tiny_schedule, tiny_votenet  # noqa: E402

num_classes = 4  # categories of the tiny category file
model = tiny_votenet(_base_, num_classes)

data_root = "data/tiny_pcfractal_scenes/"
train_pipeline = shrink_pipeline(_base_.train_pipeline, _base_.tiny_num_points)
test_pipeline = shrink_pipeline(_base_.test_pipeline, _base_.tiny_num_points)
train_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 8
optim_wrapper = _base_.tiny_optim_wrapper
globals().update(tiny_schedule(max_epochs))  # train_cfg, param_scheduler, ...
