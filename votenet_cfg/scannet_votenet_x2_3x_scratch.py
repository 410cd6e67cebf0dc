# Baseline for the x2 backbone on mmdet3d's 3x schedule: VoteNet with
# PointNet++ x2 (_base_/pointnet2-x2.py) on ScanNetV2 from scratch.
_base_ = ["./scannet_votenet_3x_scratch.py", "./_base_/pointnet2-x2.py"]
model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
