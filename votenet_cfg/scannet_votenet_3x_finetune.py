# VoteNet on ScanNetV2, backbone initialised from fractal pre-training; the
# rest is the scratch baseline scannet_votenet_scratch.py (mmdet3d's
# votenet_8xb8_scannet-3d config). The heads start from scratch.
#   python tools/train.py votenet_cfg/scannet_votenet_finetune.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAINED.pth
# PRETRAINED may come from any PointNet++ pre-training config here, detection
# (pretrain_votenet_fractal*.py) or classification (pretrain_cls_pcfractaldb.py).
_base_ = ['./scannet_votenet_scratch.py']
pretrained = 'work_dirs/pretrain_votenet_fractal/epoch_36.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
