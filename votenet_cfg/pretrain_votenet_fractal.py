# VoteNet (PointNet++ backbone, 0.95M-parameter detector as shipped by
# mmdet3d) pre-trained by 3D detection on written fractal scenes.
#   python tools/build_pcfractal.py build --preset paper --out data/pcfractal
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal.py
# Data: data/pcfractal/scenes/ (PCFRACTAL_ROOT=DIR for another build folder).
# Its backbone is what the *_votenet_*_finetune configs load
# (model.backbone.init_cfg). Model, schedule, classes and the pre-training
# target: _base_/votenet-fractal-pretrain.py; data and held-out subset:
# _base_/fractal-scenes*.py.
_base_ = [
    "./_base_/votenet-fractal-pretrain.py",
    "./_base_/fractal-scenes.py",
]
from pcfractal.mmdet3d.recipes import fractal_target  # noqa: E402

# head and pipelines of the target named by box_mode / size_mode
globals().update(fractal_target(_base_))
