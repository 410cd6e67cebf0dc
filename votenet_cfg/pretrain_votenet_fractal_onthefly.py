# VoteNet pre-training on fractal scenes built on the fly inside the data
# loader (nothing written to disk; only the category file is read).
#   python tools/train.py votenet_cfg/pretrain_votenet_fractal_onthefly.py
# Same model and schedule as pretrain_votenet_fractal.py
# (_base_/votenet-fractal-pretrain.py); num_classes = categories in
# category_file.
_base_ = [
    './_base_/votenet-fractal-pretrain.py',
    './_base_/fractal-scenes-onthefly.py',
]
