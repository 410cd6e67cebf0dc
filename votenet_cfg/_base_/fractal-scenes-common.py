# What fractal-scenes.py (scenes written to disk) and
# fractal-scenes-onthefly.py (scenes built in the data pipeline) share: where
# the data is, the pipelines after loading a scene (each of those files puts
# its own loading step in front), the loaders' batch, workers and sampler,
# the Depth boxes, the held-out subset, the metric and the visualizer.

# Everything `build_pcfractal.py build --preset paper --out data/pcfractal`
# writes: categories/ (categories.json), instances/, scenes/ (the written
# scenes and their pcfractal_infos_{train,val}.pkl). Another folder:
#   PCFRACTAL_ROOT=/path/to/build python tools/train.py CONFIG
pcfractal_root = "{{$PCFRACTAL_ROOT:data/pcfractal}}/"
category_file = pcfractal_root + "categories/categories.json"

num_points = 40000  # points fed to VoteNet per scene (ScanNet's 40,000)
# Held-out scenes scored at each validation during training: the first
# val_scenes of the held-out split (1,000 scenes). tools/test.py scores all.
val_scenes = 200

train_pipeline = [
    dict(type="RandomFlip3D", sync_2d=False, flip_ratio_bev_horizontal=0.5, flip_ratio_bev_vertical=0.5),
    dict(type="GlobalRotScaleTrans", rot_range=[-0.523599, 0.523599], scale_ratio_range=[0.85, 1.15], shift_height=True),
    dict(type="PointSample", num_points=num_points),
    dict(type="Pack3DDetInputs", keys=["points", "gt_bboxes_3d", "gt_labels_3d"]),
]
test_pipeline = [dict(type="PointSample", num_points=num_points), dict(type="Pack3DDetInputs", keys=["points"])]

train_dataloader = dict(batch_size=8, num_workers=4, sampler=dict(type="DefaultSampler", shuffle=True), dataset=dict(box_type_3d="Depth"))
val_dataloader = dict(
    batch_size=1, num_workers=1, sampler=dict(type="DefaultSampler", shuffle=False), dataset=dict(test_mode=True, box_type_3d="Depth")
)
test_dataloader = dict(
    batch_size=1, num_workers=1, sampler=dict(type="DefaultSampler", shuffle=False), dataset=dict(test_mode=True, box_type_3d="Depth")
)
# mAP over the classes present in the held-out scenes, plus class-agnostic
# mAP; per-class APs are left out of the log with 1,000 classes
val_evaluator = dict(type="PresentClassesIndoorMetric", class_agnostic=True)
test_evaluator = val_evaluator

vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(type="Det3DLocalVisualizer", vis_backends=vis_backends, name="visualizer")
