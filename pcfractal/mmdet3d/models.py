"""Models for pre-training on fractal data, registered in mmdet3d's registries.

``PointNet2Classifier`` (MODELS)
    The classification pre-training variant: VoteNet's backbone
    (``PointNet2SASSG``, built from the same config) followed by a global max
    pool over the backbone's last feature-propagation output (the 1,024 "seed"
    features VoteNet's vote module reads, so every backbone weight is trained)
    and an MLP head over the PC-FractalDB categories. The backbone sits under
    the attribute ``backbone``, so its checkpoint keys are
    ``backbone.SA_modules...`` exactly as in a VoteNet checkpoint and it
    transfers the same way (``init_cfg=dict(type='Pretrained',
    prefix='backbone.')``).
``UniformSizeBBoxCoder`` (TASK_UTILS)
    ``PartialBinBasedBBoxCoder`` whose ``num_sizes`` size classes all share one
    mean size. VoteNet ties size classes to object classes; fractal boxes have
    the same size distribution in every category, so the mean sizes are all
    the same and the number of classes can be changed with one override
    (``model.bbox_head.bbox_coder.num_sizes=N``) instead of a list of N rows.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmdet3d.models.task_modules.coders import PartialBinBasedBBoxCoder
from mmdet3d.registry import MODELS, TASK_UTILS

__all__ = ['PointNet2Classifier', 'UniformSizeBBoxCoder']


@TASK_UTILS.register_module()
class UniformSizeBBoxCoder(PartialBinBasedBBoxCoder):
    """Partial bin-based box coder with one mean size for all size classes.

    Args:
        num_dir_bins (int): heading bins. Defaults to 12.
        num_sizes (int): size classes (= detection classes in VoteNet).
        mean_size (sequence of 3 floats): the mean box size (dx, dy, dz) in
            metres. Defaults to (1.0, 1.0, 1.0), the mean fractal-scene box.
        with_rot (bool): predict headings. Defaults to True.
    """

    def __init__(self,
                 num_sizes: int,
                 num_dir_bins: int = 12,
                 mean_size: Sequence[float] = (1.0, 1.0, 1.0),
                 with_rot: bool = True) -> None:
        if len(mean_size) != 3:
            raise ValueError(f'mean_size must be 3 numbers, got {mean_size}')
        super().__init__(
            num_dir_bins=num_dir_bins,
            num_sizes=int(num_sizes),
            mean_sizes=[[float(v) for v in mean_size]] * int(num_sizes),
            with_rot=with_rot)


@MODELS.register_module()
class PointNet2Classifier(BaseModel):
    """Point-cloud classifier: PointNet++ backbone + global max pool + MLP.

    Args:
        backbone (dict): backbone config (``PointNet2SASSG`` as in VoteNet).
        num_classes (int): number of categories.
        feat_channels (int): channels of the pooled feature (the backbone's
            last FP output). Defaults to 256 (VoteNet's backbone).
        hidden_channels (sequence of int): hidden layers of the MLP head.
            Defaults to (256, ).
        dropout (float): dropout before each hidden layer's output. Defaults
            to 0.5.
        pool (str): ``'fp'`` pools the last feature-propagation output (all
            backbone weights trained); ``'sa'`` pools the last set-abstraction
            output (the FP layers then get no gradient). Defaults to ``'fp'``.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='Det3DDataPreprocessor')``.
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 feat_channels: int = 256,
                 hidden_channels: Sequence[int] = (256, ),
                 dropout: float = 0.5,
                 pool: str = 'fp',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='Det3DDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pool not in ('fp', 'sa'):
            raise ValueError(f"pool must be 'fp' or 'sa', got {pool!r}")
        self.pool = pool
        self.num_classes = int(num_classes)
        self.backbone = MODELS.build(backbone)
        layers: List[nn.Module] = []
        c = feat_channels
        for h in hidden_channels:
            layers += [
                nn.Linear(c, h, bias=False),
                nn.BatchNorm1d(h),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout)
            ]
            c = h
        layers.append(nn.Linear(c, self.num_classes))
        self.cls_head = nn.Sequential(*layers)

    def extract_feat(self, points: Union[Tensor, List[Tensor]]) -> Tensor:
        """(B, N, C) points (or a list of (N, C)) -> (B, feat_channels)."""
        if isinstance(points, (list, tuple)):
            points = torch.stack(points)
        feats = self.backbone(points)
        key = 'fp_features' if self.pool == 'fp' else 'sa_features'
        return feats[key][-1].max(dim=-1)[0]

    def forward(self,
                inputs: Dict[str, Union[Tensor, List[Tensor]]],
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        logits = self.cls_head(self.extract_feat(inputs['points']))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = torch.cat([
                s.gt_instances_3d.labels_3d.reshape(-1)[:1]
                for s in data_samples
            ]).to(logits.device)
            loss = F.cross_entropy(logits, labels)
            acc = (logits.argmax(1) == labels).float().mean()
            return dict(loss_cls=loss, acc=acc.detach())
        if mode == 'predict':
            scores = logits.softmax(dim=1)
            for sample, score in zip(data_samples, scores):
                pred = InstanceData()  # one "instance": the whole cloud
                pred.scores = score.detach()[None]  # (1, num_classes)
                pred.labels = score.argmax().reshape(1)
                sample.pred_instances = pred
            return data_samples
        raise ValueError(f'mode must be tensor, loss or predict, got {mode!r}')
