# Tiny VoteNet fine-tuned on a tiny SUN RGB-D-format dataset (real layout:
# sunrgbd_infos_{train,val}.pkl, points/, sunrgbd_trainval/image/),
# backbone from a tiny pre-training, for CPU tests (the paper's recipe with
# the tiny schedule; its batch-norm momentum hook included):
#   python tools/train.py votenet_cfg/tiny_sunrgbd_votenet_finetune.py --cfg-options \
#       model.backbone.init_cfg.checkpoint=P train_dataloader.dataset.dataset.data_root=D \
#       val_dataloader.dataset.data_root=D test_dataloader.dataset.data_root=D
_base_ = ["./sunrgbd_votenet_paper_finetune.py", "./_base_/tiny.py"]
from pcfractal.mmdet3d.tiny_configs import tiny_finetune  # noqa: E402

# tiny model (backbone from the tiny detection pre-training's epoch_8.pth),
# the parent's pipelines at tiny_num_points, loaders on data_root, 24 epochs
# of the tiny schedule, mAP over the classes present (see tiny_finetune)
data_root = "data/tiny_sunrgbd/"
globals().update(tiny_finetune(_base_, data_root))
