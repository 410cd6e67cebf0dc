# VoteNet with PointNet++ x2 on ScanNetV2 with the paper's recipe, backbone
# from pretrain_votenet_x2_fractal.py (or pretrain_cls_x2_pcfractaldb.py):
# the paper's "PC-FractalDB, PointNet++ x2" row.
_base_ = ["./scannet_votenet_x2_paper_scratch.py"]
pretrained = "work_dirs/pretrain_votenet_x2_fractal/epoch_36.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
