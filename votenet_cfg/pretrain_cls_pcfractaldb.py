# Classification pre-training variant: VoteNet's PointNet++ backbone (the very
# backbone dict of mmdet3d's _base_/models/votenet.py) + global max pool + MLP
# classifying PC-FractalDB instances into their fractal category. The
# backbone's keys are backbone.* as in VoteNet, so it transfers to the
# *_votenet_*_finetune configs the same way (*_votenet_paper_finetune_cls.py
# reads its last epoch):
#   python tools/train.py votenet_cfg/pretrain_cls_pcfractaldb.py
#   python tools/train.py votenet_cfg/scannet_votenet_paper_finetune_cls.py
_base_ = [
    "mmdet3d::_base_/models/votenet.py",
    "mmdet3d::_base_/default_runtime.py",
    "./_base_/pcfractaldb-instances.py",
]
custom_imports = dict(imports=["pcfractal.mmdet3d"], allow_failed_imports=False)

num_classes = 1000  # = categories in category_file
model = dict(
    _delete_=True,
    type="PointNet2Classifier",
    backbone=_base_.model.backbone,
    num_classes=num_classes,
    feat_channels=256,
    hidden_channels=(256,),
    dropout=0.5,
    pool="fp",
    data_preprocessor=dict(type="Det3DDataPreprocessor"),
)

max_epochs = 10
optim_wrapper = dict(
    type="OptimWrapper", optimizer=dict(type="AdamW", lr=0.001, weight_decay=0.01), clip_grad=dict(max_norm=10, norm_type=2)
)
param_scheduler = [dict(type="CosineAnnealingLR", T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=3, save_last=True))
auto_scale_lr = dict(enable=False, base_batch_size=32)
