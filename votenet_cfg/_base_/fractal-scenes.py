# Fractal scenes written to disk (scene_builder.writers.mmdet3d, e.g. by
# `python tools/build_pcfractal.py build --preset paper --out data/pcfractal`,
# which puts them in data/pcfractal/scenes/): ScanNet-style info files beside
# points/ (float32 xyz), instance_mask/, semantic_mask/ (int64).
# Boxes have a heading and are read as rotated DepthInstance3DBoxes; what
# VoteNet is trained to predict from them (rotated or axis-aligned boxes, size
# classes) is the config's pre-training target (recipes.fractal_target).
# Augmentation, sampling, loaders' batch, held-out subset and metric:
# fractal-scenes-common.py.
_base_ = ["./fractal-scenes-common.py"]
dataset_type = "FractalSceneDataset"
data_root = _base_.pcfractal_root + "scenes/"
backend_args = None

__load_points = dict(
    type="LoadPointsFromFile", coord_type="DEPTH", shift_height=True, load_dim=3, use_dim=[0, 1, 2], backend_args=backend_args
)
train_pipeline = [
    __load_points,
    dict(type="LoadAnnotations3D", with_bbox_3d=True, with_label_3d=True),
] + _base_.train_pipeline
test_pipeline = [__load_points] + _base_.test_pipeline

__scenes = dict(type=dataset_type, data_root=data_root, backend_args=backend_args)
train_dataloader = dict(dataset=dict(__scenes, ann_file="pcfractal_infos_train.pkl", pipeline=train_pipeline, filter_empty_gt=True))
# validation during training: the first val_scenes held-out scenes
val_dataloader = dict(dataset=dict(__scenes, ann_file="pcfractal_infos_val.pkl", indices=_base_.val_scenes, pipeline=test_pipeline))
# tools/test.py: every held-out scene
test_dataloader = dict(dataset=dict(__scenes, ann_file="pcfractal_infos_val.pkl", pipeline=test_pipeline))
