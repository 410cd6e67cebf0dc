# Limited-data study: scratch on 5 % of the ScanNetV2 training
# scenes, with the paper's recipe (scannet_votenet_paper_scratch.py). The subset
# (seed 0) is made once by
#   python tools/make_subset.py data/scannet/scannet_infos_train.pkl --fraction 0.05 --seed 0
# and repeated x20 per epoch: same iterations and schedule as the full run.
#   python tools/train.py votenet_cfg/limited/scannet_votenet_paper_scratch_5pct.py
_base_ = ["../scannet_votenet_paper_scratch.py"]
from pcfractal.mmdet3d.recipes import limited_data  # noqa: E402

globals().update(limited_data(_base_, fraction=0.05, seed=0))
