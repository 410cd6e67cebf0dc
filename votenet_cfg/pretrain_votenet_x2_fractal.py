# VoteNet with PointNet++ x2 (every backbone MLP twice as wide, see
# _base_/pointnet2-x2.py) pre-trained on written fractal scenes.
#   python tools/train.py votenet_cfg/pretrain_votenet_x2_fractal.py
_base_ = ["./pretrain_votenet_fractal.py", "./_base_/pointnet2-x2.py"]
model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
