# PC-FractalDB instances (FractalNoiseMix clouds, label = category) built in
# the data pipeline, for the classification pre-training variant. Each cloud
# is scaled to a 1 m object standing on the floor (the size of a fractal-scene
# object), with VoteNet's height channel. Validation: held-out instances.
dataset_type = "PCFractalDBInstanceDataset"
# the categories `build_pcfractal.py build --preset paper --out data/pcfractal`
# writes (PCFRACTAL_ROOT=DIR for another build folder)
pcfractal_root = "{{$PCFRACTAL_ROOT:data/pcfractal}}/"
category_file = pcfractal_root + "categories/categories.json"
instance_seed = 0
instances_per_category = 1000  # PC-FractalDB-1k
val_instances_per_category = 10
instance_settings = dict()  # 4,000 points, 80 % main (the talk)

train_pipeline = [
    dict(type="LoadFractalInstance", object_size=1.0, shift_height=True),
    dict(type="RandomFlip3D", sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type="GlobalRotScaleTrans", rot_range=[-3.14159265, 3.14159265], scale_ratio_range=[0.75, 1.25], shift_height=True),
    dict(type="Pack3DDetInputs", keys=["points", "gt_labels_3d"]),
]
test_pipeline = [
    dict(type="LoadFractalInstance", object_size=1.0, shift_height=True),
    dict(type="Pack3DDetInputs", keys=["points", "gt_labels_3d"]),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        type=dataset_type,
        category_file=category_file,
        instances_per_category=instances_per_category,
        seed=instance_seed,
        instance_settings=instance_settings,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type=dataset_type,
        category_file=category_file,
        instances_per_category=val_instances_per_category,
        seed=instance_seed,
        start_instance=instances_per_category,
        instance_settings=instance_settings,
        pipeline=test_pipeline,
        test_mode=True,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="ClassificationAccuracy", topk=(1, 5))
test_evaluator = val_evaluator

vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(type="Det3DLocalVisualizer", vis_backends=vis_backends, name="visualizer")
