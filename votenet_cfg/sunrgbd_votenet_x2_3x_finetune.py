# VoteNet with PointNet++ x2 on SUN RGB-D on mmdet3d's 3x schedule, backbone
# from pretrain_votenet_x2_fractal.py (or pretrain_cls_x2_pcfractaldb.py).
_base_ = ["./sunrgbd_votenet_x2_3x_scratch.py"]
pretrained = "work_dirs/pretrain_votenet_x2_fractal/epoch_36.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
