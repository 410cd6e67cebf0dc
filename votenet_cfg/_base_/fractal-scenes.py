# Fractal scenes written to disk (scene_builder.writers.mmdet3d, e.g. by
# `python tools/build_pcfractal.py scenes ...`): ScanNet-style info files beside
# points/ (float32 xyz), instance_mask/, semantic_mask/ (int64).
# Boxes have a heading, so they are read as rotated DepthInstance3DBoxes and
# VoteNet is trained the SUN RGB-D way (with_rot=True, vote targets from
# points_in_boxes_all on the boxes); see pcfractal/mmdet3d/datasets.py.
# Augmentation, sampling, loaders' batch and metric: fractal-scenes-common.py.
_base_ = ['./fractal-scenes-common.py']
dataset_type = 'FractalSceneDataset'
data_root = 'data/pcfractal_scenes/'
backend_args = None

__load_points = dict(
    type='LoadPointsFromFile',
    coord_type='DEPTH',
    shift_height=True,
    load_dim=3,
    use_dim=[0, 1, 2],
    backend_args=backend_args)
train_pipeline = [
    __load_points,
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
] + _base_.train_pipeline
test_pipeline = [__load_points] + _base_.test_pipeline

__scenes = dict(
    type=dataset_type, data_root=data_root, backend_args=backend_args)
train_dataloader = dict(
    dataset=dict(
        __scenes,
        ann_file='pcfractal_infos_train.pkl',
        pipeline=train_pipeline,
        filter_empty_gt=True))
val_dataloader = dict(
    dataset=dict(
        __scenes, ann_file='pcfractal_infos_val.pkl', pipeline=test_pipeline))
test_dataloader = val_dataloader
