# Baseline: VoteNet on SUN RGB-D from scratch, exactly mmdet3d's config
# (votenet_8xb16_sunrgbd-3d: 10 classes, 20,000 points, 36 epochs); pcfractal
# only adds the CPU point ops so that it also runs without CUDA.
#   python tools/train.py votenet_cfg/sunrgbd_votenet_scratch.py
_base_ = ['mmdet3d::votenet/votenet_8xb16_sunrgbd-3d.py']
custom_imports = dict(imports=['pcfractal.mmdet3d'], allow_failed_imports=False)
