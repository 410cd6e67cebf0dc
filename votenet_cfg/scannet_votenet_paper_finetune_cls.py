# VoteNet on ScanNetV2 with the paper's recipe (scannet_votenet_paper_scratch.py),
# backbone initialised from classification pre-training on PC-FractalDB instances
# (pretrain_cls_pcfractaldb.py).
# The heads start from scratch.
#   python tools/train.py votenet_cfg/scannet_votenet_paper_finetune_cls.py
# (another checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=P)
_base_ = ["./scannet_votenet_paper_scratch.py"]
pretrained = "pretrain_cls_pcfractaldb/epoch_10.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
