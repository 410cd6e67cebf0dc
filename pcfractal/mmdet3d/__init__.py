"""pcfractal's glue to mmdetection3d 1.4.0 (mmengine 0.10.x, mmcv 2.1.0).

The only package in pcfractal that imports mmdet3d, mmcv or mmengine; the
rest of the project runs without them. Importing it is all a config needs::

    custom_imports = dict(imports=['pcfractal.mmdet3d'],
                          allow_failed_imports=False)

On import it

* puts CPU versions of mmcv's CUDA-only point ops (furthest point sampling,
  ball query, grouping, gathering, three_nn / three_interpolate, knn,
  points_in_boxes_all / _part) behind mmcv's own names, so mmdet3d's
  PointNet++ and VoteNet train and evaluate on CPU tensors; CUDA tensors keep
  mmcv's kernels (:mod:`pcfractal.mmdet3d.cpu_ops`);
* makes mmengine load its own checkpoints under torch >= 2.6, for ``resume``,
  ``load_from`` and ``Pretrained`` init (:mod:`pcfractal.mmdet3d.checkpoint`);
* registers the fractal datasets and transforms, ``FractalVoteHead`` (bounded
  evaluation with 1,000 classes), ``UniformSizeBBoxCoder``,
  ``PointNet2Classifier``, the metrics and ``BNMomentumHook`` (the paper's
  recipe).

What the configs derive from their parents (recipes, the pre-training
target, limited-data subsets) is in :mod:`pcfractal.mmdet3d.recipes`; the
converter of facebookresearch/votenet checkpoints in
:mod:`pcfractal.mmdet3d.votenet_checkpoint`.

Both steps are idempotent and can be undone with each module's
``uninstall()``. Install the stack with ``scripts/install_mmdet3d.sh``.
"""

from . import checkpoint, cpu_ops

cpu_ops.install()
checkpoint.install()
from . import datasets, hooks, metrics, models, transforms  # noqa: E402,F401  registers pcfractal's datasets, transforms, models, metrics, hooks

__all__ = ["checkpoint", "cpu_ops"]
