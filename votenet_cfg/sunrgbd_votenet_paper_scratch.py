# The paper's scratch baseline on SUN RGB-D: mmdet3d's VoteNet and data
# pipeline (votenet_8xb16_sunrgbd-3d: 10 classes, 20,000 points) trained with
# facebookresearch/votenet's recipe, the one behind the paper's numbers: Adam
# 1e-3 without weight decay, batch 8 on one GPU, 180 epochs over the
# 5,285 training scenes, lr x0.1 at epochs 80, 120, 160, batch-norm
# momentum max(0.5 * 0.5^(epoch // 20), 0.001) (BNMomentumHook); validation
# every 10 epochs; best and last checkpoints kept (recipes.paper_recipe).
#   python tools/train.py votenet_cfg/sunrgbd_votenet_paper_scratch.py
_base_ = ["mmdet3d::votenet/votenet_8xb16_sunrgbd-3d.py"]
from pcfractal.mmdet3d.recipes import paper_recipe  # noqa: E402

custom_imports = dict(imports=["pcfractal.mmdet3d"], allow_failed_imports=False)
globals().update(paper_recipe())
