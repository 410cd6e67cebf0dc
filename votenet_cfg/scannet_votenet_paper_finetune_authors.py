# VoteNet on ScanNetV2 with the paper's recipe (scannet_votenet_paper_scratch.py),
# backbone initialised from the authors' published PC-FractalDB VoteNet checkpoint
# (facebookresearch/votenet format) converted with
#   python tools/convert_votenet_checkpoint.py pcfractaldb_votenet_weight.tar \
#       checkpoints/pcfractaldb_votenet_mmdet3d.pth.
# The heads start from scratch.
#   python tools/train.py votenet_cfg/scannet_votenet_paper_finetune_authors.py
# (another checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=P)
_base_ = ["./scannet_votenet_paper_scratch.py"]
pretrained = "checkpoints/pcfractaldb_votenet_mmdet3d.pth"
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.")))
