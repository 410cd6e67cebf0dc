# Baseline: VoteNet on ScanNetV2 from scratch, exactly mmdet3d's config
# (votenet_8xb8_scannet-3d: 18 classes, 40,000 points, 36 epochs); pcfractal
# only adds the CPU point ops so that it also runs without CUDA.
#   python tools/train.py votenet_cfg/scannet_votenet_scratch.py
_base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']
custom_imports = dict(imports=['pcfractal.mmdet3d'], allow_failed_imports=False)
