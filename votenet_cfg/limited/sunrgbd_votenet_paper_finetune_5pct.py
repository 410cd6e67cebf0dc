# Limited-data study: fine-tuning from fractal pre-training on 5 % of the SUN RGB-D training
# scenes, with the paper's recipe (sunrgbd_votenet_paper_finetune.py). The subset
# (seed 0) is made once by
#   python tools/make_subset.py data/sunrgbd/sunrgbd_infos_train.pkl --fraction 0.05 --seed 0
# and repeated x20 per epoch: same iterations and schedule as the full run.
#   python tools/train.py votenet_cfg/limited/sunrgbd_votenet_paper_finetune_5pct.py
_base_ = ["../sunrgbd_votenet_paper_finetune.py"]
from pcfractal.mmdet3d.recipes import limited_data  # noqa: E402

globals().update(limited_data(_base_, fraction=0.05, seed=0))
