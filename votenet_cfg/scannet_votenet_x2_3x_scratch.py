# Baseline for the x2 backbone: VoteNet with PointNet++ x2 on ScanNetV2 from
# scratch (mmdet3d's ScanNet config with the wider model of
# _base_/pointnet2-x2.py).
_base_ = [
    'mmdet3d::votenet/votenet_8xb8_scannet-3d.py', './_base_/pointnet2-x2.py'
]
custom_imports = dict(imports=['pcfractal.mmdet3d'], allow_failed_imports=False)
model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
