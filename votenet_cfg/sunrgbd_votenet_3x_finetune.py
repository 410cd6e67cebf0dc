# VoteNet on SUN RGB-D on mmdet3d's 3x schedule, backbone initialised from
# fractal pre-training; the rest is sunrgbd_votenet_3x_scratch.py. The heads
# start from scratch.
#   python tools/train.py votenet_cfg/sunrgbd_votenet_3x_finetune.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAINED.pth
_base_ = ["./sunrgbd_votenet_3x_scratch.py"]
pretrained = "work_dirs/pretrain_votenet_fractal/epoch_36.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
