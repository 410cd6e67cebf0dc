# Tiny VoteNet fine-tuned on a tiny SUN RGB-D-format dataset (real layout:
# sunrgbd_infos_{train,val}.pkl, points/, sunrgbd_trainval/image/),
# backbone from a tiny pre-training, for CPU tests:
#   python tools/train.py votenet_cfg/tiny_sunrgbd_votenet_finetune.py --cfg-options \
#       model.backbone.init_cfg.checkpoint=P train_dataloader.dataset.dataset.data_root=D \
#       val_dataloader.dataset.data_root=D test_dataloader.dataset.data_root=D
_base_ = ['./sunrgbd_votenet_finetune.py', './_base_/tiny.py']

pretrained = 'work_dirs/tiny_pretrain_votenet_fractal/epoch_8.pth'
model = dict(
    backbone=dict(_base_.tiny_backbone, init_cfg=dict(checkpoint=pretrained)),
    bbox_head=_base_.tiny_bbox_head)

data_root = 'data/tiny_sunrgbd/'


def _tiny(pipeline):
    out = []
    for t in pipeline:
        if t['type'] == 'PointSample':
            t = dict(t, num_points=_base_.tiny_num_points)
        elif t['type'] == 'MultiScaleFlipAug3D':
            t = dict(t, transforms=_tiny(t['transforms']))
        out.append(t)
    return out


train_pipeline = _tiny(_base_.train_pipeline)
test_pipeline = _tiny(_base_.test_pipeline)
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    dataset=dict(
        times=1, dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(
    num_workers=0, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# a toy evaluation set holds only some of the classes: mAP over those (mmdet3d's
# IndoorMetric gives NaN when a class is predicted but absent from the GT)
val_evaluator = dict(type='PresentClassesIndoorMetric', class_agnostic=False)
test_evaluator = val_evaluator

max_epochs = 24
optim_wrapper = _base_.tiny_optim_wrapper
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[max_epochs],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=1)
randomness = dict(seed=0)
