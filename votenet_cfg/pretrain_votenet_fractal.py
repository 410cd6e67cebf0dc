# VoteNet (PointNet++ backbone, 0.95M-parameter detector as shipped by
# mmdet3d) pre-trained by 3D detection on written fractal scenes.
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal.py
# Data: data/pcfractal_scenes/ (see docs/TRAINING.md). Its backbone is what the
# *_votenet_finetune configs load (model.backbone.init_cfg).
# Model, schedule and the number of classes: _base_/votenet-fractal-pretrain.py.
_base_ = [
    './_base_/votenet-fractal-pretrain.py',
    './_base_/fractal-scenes.py',
]
