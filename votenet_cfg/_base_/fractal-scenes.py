# Fractal scenes written to disk (scene_builder.writers.mmdet3d, e.g. by
# `python tools/build_pcfractal.py scenes ...`): ScanNet-style info files beside
# points/ (float32 xyz), instance_mask/, semantic_mask/ (int64).
# Boxes have a heading, so they are read as rotated DepthInstance3DBoxes and
# VoteNet is trained the SUN RGB-D way (with_rot=True, vote targets from
# points_in_boxes_all on the boxes); see pcfractal/mmdet3d/datasets.py.
dataset_type = 'FractalSceneDataset'
data_root = 'data/pcfractal_scenes/'
backend_args = None
num_points = 40000  # points fed to VoteNet per scene (ScanNet's 40,000)

train_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='DEPTH',
        shift_height=True,
        load_dim=3,
        use_dim=[0, 1, 2],
        backend_args=backend_args),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(
        type='RandomFlip3D',
        sync_2d=False,
        flip_ratio_bev_horizontal=0.5,
        flip_ratio_bev_vertical=0.5),
    dict(
        type='GlobalRotScaleTrans',
        rot_range=[-0.523599, 0.523599],
        scale_ratio_range=[0.85, 1.15],
        shift_height=True),
    dict(type='PointSample', num_points=num_points),
    dict(
        type='Pack3DDetInputs',
        keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
test_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='DEPTH',
        shift_height=True,
        load_dim=3,
        use_dim=[0, 1, 2],
        backend_args=backend_args),
    dict(type='PointSample', num_points=num_points),
    dict(type='Pack3DDetInputs', keys=['points'])
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='pcfractal_infos_train.pkl',
        pipeline=train_pipeline,
        filter_empty_gt=True,
        box_type_3d='Depth',
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='pcfractal_infos_val.pkl',
        pipeline=test_pipeline,
        test_mode=True,
        box_type_3d='Depth',
        backend_args=backend_args))
test_dataloader = val_dataloader
# mAP over the classes present in the held-out scenes, plus class-agnostic mAP
val_evaluator = dict(type='PresentClassesIndoorMetric', class_agnostic=True)
test_evaluator = val_evaluator

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Det3DLocalVisualizer', vis_backends=vis_backends, name='visualizer')
