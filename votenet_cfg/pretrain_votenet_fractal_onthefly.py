# VoteNet pre-training on fractal scenes built on the fly inside the data
# loader (nothing written to disk; only the category file is read).
#   python tools/build_pcfractal.py categories --preset paper --out data/pcfractal/categories
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal_onthefly.py
# Same model, schedule and target as pretrain_votenet_fractal.py
# (_base_/votenet-fractal-pretrain.py); num_classes = categories in the file.
_base_ = [
    "./_base_/votenet-fractal-pretrain.py",
    "./_base_/fractal-scenes-onthefly.py",
]
from pcfractal.mmdet3d.recipes import fractal_target  # noqa: E402

globals().update(fractal_target(_base_))
