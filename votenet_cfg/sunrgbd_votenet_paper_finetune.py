# VoteNet on SUN RGB-D with the paper's recipe (sunrgbd_votenet_paper_scratch.py),
# backbone initialised from detection pre-training on fractal scenes (pretrain_votenet_fractal.py
# or its _onthefly twin).
# The heads start from scratch.
#   python tools/train.py votenet_cfg/sunrgbd_votenet_paper_finetune.py
# (another checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=P)
_base_ = ["./sunrgbd_votenet_paper_scratch.py"]
pretrained = "pretrain_votenet_fractal/epoch_36.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
