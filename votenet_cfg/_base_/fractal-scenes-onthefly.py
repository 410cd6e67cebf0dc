# Fractal scenes built inside the data pipeline (nothing on disk): entry i is
# scene_builder.make_scene(categories, start_index + i, seed, scene_settings),
# the same scene a written build with the same inputs stores as scene i.
# Only the category file is read (data/pcfractal/categories/categories.json,
# see fractal-scenes-common.py). Held out: the scenes after the training
# ones (same seed), as the last 10 % of a written build.
# Augmentation, sampling, loaders' batch, held-out subset and metric:
# fractal-scenes-common.py.
_base_ = ["./fractal-scenes-common.py"]
dataset_type = "FractalSceneOnTheFlyDataset"
scene_seed = 0
num_train_scenes = 9000
num_val_scenes = 1000
scene_settings = dict()  # scene_builder.SceneSettings defaults (PCFRACTALDB.md)
instance_settings = dict()  # pcfractal.pointclouds.instances.InstanceSettings defaults

__load_scene = dict(type="LoadFractalScene", shift_height=True)
train_pipeline = [__load_scene] + _base_.train_pipeline
test_pipeline = [__load_scene] + _base_.test_pipeline

__scenes = dict(
    type=dataset_type,
    category_file=_base_.category_file,
    seed=scene_seed,
    scene_settings=scene_settings,
    instance_settings=instance_settings,
)
train_dataloader = dict(
    persistent_workers=True, dataset=dict(__scenes, num_scenes=num_train_scenes, start_index=0, pipeline=train_pipeline)
)
# validation during training: the first val_scenes held-out scenes
val_dataloader = dict(dataset=dict(__scenes, num_scenes=_base_.val_scenes, start_index=num_train_scenes, pipeline=test_pipeline))
# tools/test.py: every held-out scene
test_dataloader = dict(dataset=dict(__scenes, num_scenes=num_val_scenes, start_index=num_train_scenes, pipeline=test_pipeline))
