# VoteNet with PointNet++ x2 on SUN RGB-D, backbone from
# pretrain_votenet_x2_fractal.py (or pretrain_cls_x2_pcfractaldb.py).
#   python tools/train.py votenet_cfg/sunrgbd_votenet_x2_finetune.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAINED.pth
_base_ = ['./sunrgbd_votenet_x2_scratch.py']
pretrained = 'work_dirs/pretrain_votenet_x2_fractal/epoch_36.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
