# "PointNet++ x2": VoteNet's PointNet2SASSG with every set-abstraction and
# feature-propagation MLP twice as wide (same depth, radii, sample counts).
# Only the backbone is widened: the vote head keeps VoteNet's widths and
# only its layers that read the seed features take 512 channels instead of
# 256 (the vote module's input and residual, which must match the seeds,
# and the first layer of the vote aggregation). Merged into mmdet3d's VoteNet
# model by the *_x2_* configs:
#     model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
x2_backbone = dict(sa_channels=((128, 128, 256), (256, 256, 512), (256, 256, 512), (256, 256, 512)), fp_channels=((512, 512), (512, 512)))
x2_bbox_head = dict(vote_module_cfg=dict(in_channels=512), vote_aggregation_cfg=dict(mlp_channels=[512, 128, 128, 128]))
