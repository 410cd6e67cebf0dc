# Baseline for the x2 backbone with the paper's recipe: VoteNet with
# PointNet++ x2 (_base_/pointnet2-x2.py) on SUN RGB-D from scratch.
_base_ = ["./sunrgbd_votenet_paper_scratch.py", "./_base_/pointnet2-x2.py"]
model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
