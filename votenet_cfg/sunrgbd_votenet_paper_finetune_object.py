# VoteNet on SUN RGB-D with the paper's recipe (sunrgbd_votenet_paper_scratch.py),
# backbone initialised from one-class ("object") detection pre-training
# (pretrain_votenet_fractal_object.py).
# The heads start from scratch.
#   python tools/train.py votenet_cfg/sunrgbd_votenet_paper_finetune_object.py
# (another checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=P)
_base_ = ["./sunrgbd_votenet_paper_scratch.py"]
pretrained = "pretrain_votenet_fractal_object/epoch_36.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
