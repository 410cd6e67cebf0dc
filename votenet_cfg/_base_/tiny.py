# Tiny VoteNet and tiny fractal data for CPU tests (tests/mmdet3d): the same
# modules as the real configs with 8x fewer sampled points, 4-8x narrower MLPs,
# small rooms with a few objects, and short schedules. Merged by the tiny_*
# configs, e.g. model = dict(backbone=_base_.tiny_backbone, ...).
tiny_backbone = dict(
    num_points=(256, 128, 64, 32),
    radius=(0.2, 0.4, 0.8, 1.2),
    num_samples=(16, 16, 8, 8),
    sa_channels=((16, 16, 32), (32, 32, 64), (32, 32, 64), (32, 32, 64)),
    fp_channels=((64, 64), (64, 64)),
)
tiny_bbox_head = dict(
    vote_module_cfg=dict(in_channels=64, conv_channels=(64, 64)),
    vote_aggregation_cfg=dict(num_point=64, radius=0.3, num_sample=8, mlp_channels=[64, 32, 32, 32]),
    pred_layer_cfg=dict(in_channels=32, shared_conv_channels=(32, 32)),
)
tiny_num_points = 4096  # points per scene fed to the tiny VoteNet
# tiny fractal scenes: 5 m rooms, about 4 objects of 1,000 points
tiny_scene_settings = dict(base_objects=3, extra_objects_mean=1.0, room_size=5.0, instances_per_category=16)
tiny_instance_settings = dict(n_points=1000)
tiny_optim_wrapper = dict(
    type="OptimWrapper", optimizer=dict(type="AdamW", lr=0.008, weight_decay=0.01), clip_grad=dict(max_norm=10, norm_type=2)
)
