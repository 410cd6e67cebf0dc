# "PointNet++ x2": VoteNet's PointNet2SASSG with every set-abstraction and
# feature-propagation MLP twice as wide (same depth, radii, sample counts),
# and the vote head widened to read its 512-channel seed features. Merged into
# mmdet3d's VoteNet model by the *_x2_* configs:
#     model = dict(backbone=_base_.x2_backbone, bbox_head=_base_.x2_bbox_head)
x2_backbone = dict(
    sa_channels=((128, 128, 256), (256, 256, 512), (256, 256, 512),
                 (256, 256, 512)),
    fp_channels=((512, 512), (512, 512)))
x2_bbox_head = dict(
    vote_module_cfg=dict(in_channels=512, conv_channels=(512, 512)),
    vote_aggregation_cfg=dict(mlp_channels=[512, 256, 256, 256]),
    pred_layer_cfg=dict(in_channels=256, shared_conv_channels=(256, 256)))
