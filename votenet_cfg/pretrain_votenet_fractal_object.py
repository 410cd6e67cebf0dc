# One-class ("object") detection pre-training: the scenes of
# pretrain_votenet_fractal.py with every fractal object labelled 'object'
# (class_mode='object'): VoteNet learns to find and box objects, not to tell
# the 1,000 categories apart.
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal_object.py
# Fine-tune from it: *_votenet_paper_finetune_object.py.
_base_ = ["./pretrain_votenet_fractal.py"]
from pcfractal.mmdet3d.recipes import fractal_target  # noqa: E402

globals().update(fractal_target(_base_, num_classes=1))
train_dataloader = dict(dataset=dict(class_mode="object"))
val_dataloader = dict(dataset=dict(class_mode="object"))
test_dataloader = dict(dataset=dict(class_mode="object"))
