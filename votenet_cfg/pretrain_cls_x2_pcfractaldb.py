# Classification pre-training of the PointNet++ x2 backbone on PC-FractalDB
# (transfers to the *_votenet_x2_*_finetune configs).
_base_ = ["./pretrain_cls_pcfractaldb.py", "./_base_/pointnet2-x2.py"]
model = dict(backbone=_base_.x2_backbone, feat_channels=512)
