# Fractal scenes built inside the data pipeline (nothing on disk): entry i is
# scene_builder.make_scene(categories, start_index + i, seed, scene_settings),
# the same scene a written build with the same inputs stores as scene i.
# Validation holds out the scenes after the training ones (same seed).
dataset_type = 'FractalSceneOnTheFlyDataset'
category_file = 'data/pcfractal/categories.json'  # build_pcfractal.py categories
scene_seed = 0
num_train_scenes = 9000
num_val_scenes = 1000
scene_settings = dict()  # scene_builder.SceneSettings defaults (PCFRACTALDB.md)
instance_settings = dict()  # pcfractal.instances.InstanceSettings defaults
num_points = 40000

train_pipeline = [
    dict(type='LoadFractalScene', shift_height=True),
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
    dict(type='LoadFractalScene', shift_height=True),
    dict(type='PointSample', num_points=num_points),
    dict(type='Pack3DDetInputs', keys=['points'])
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        category_file=category_file,
        num_scenes=num_train_scenes,
        seed=scene_seed,
        start_index=0,
        scene_settings=scene_settings,
        instance_settings=instance_settings,
        pipeline=train_pipeline,
        box_type_3d='Depth'))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        category_file=category_file,
        num_scenes=num_val_scenes,
        seed=scene_seed,
        start_index=num_train_scenes,
        scene_settings=scene_settings,
        instance_settings=instance_settings,
        pipeline=test_pipeline,
        test_mode=True,
        box_type_3d='Depth'))
test_dataloader = val_dataloader
val_evaluator = dict(type='PresentClassesIndoorMetric', class_agnostic=True)
test_evaluator = val_evaluator

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='Det3DLocalVisualizer', vis_backends=vis_backends, name='visualizer')
