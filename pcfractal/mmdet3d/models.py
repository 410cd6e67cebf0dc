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
    the same. With ``num_sizes=1`` (the pre-training's ``size_mode='shared'``)
    every box is size class 0 whatever its label: one size class shared by
    all categories, so the size-class loss is 0 instead of repeating the
    semantic loss. With ``num_sizes`` = the class count
    (``size_mode='per_category'``, VoteNet's convention) the size class is the
    label.
``FractalVoteHead`` (MODELS)
    mmdet3d's ``VoteHead`` whose evaluation stays bounded with many classes.
    With ``test_cfg.per_class_proposal=True`` VoteHead copies every kept
    proposal once per class (score = objectness x class probability): 1,000
    copies per proposal with 1,000 fractal categories, so 100-250 thousand
    boxes per scene that mmdet3d's ``indoor_eval`` then walks in Python.
    ``test_cfg.max_classes_per_proposal=k`` keeps only the copies of each
    proposal's ``k`` most probable classes (class-aware top-k): at most
    ``k x num_proposals`` boxes per scene whatever the class count. With
    ``k`` >= the class count (or None) it is exactly VoteHead's output.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmdet3d.models.dense_heads import VoteHead
from mmdet3d.models.layers import aligned_3d_nms
from mmdet3d.models.task_modules.coders import PartialBinBasedBBoxCoder
from mmdet3d.registry import MODELS, TASK_UTILS
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor, nn

__all__ = ["PointNet2Classifier", "UniformSizeBBoxCoder", "FractalVoteHead"]


@TASK_UTILS.register_module()
class UniformSizeBBoxCoder(PartialBinBasedBBoxCoder):
    """Partial bin-based box coder with one mean size for all size classes.

    Args:
        num_dir_bins (int): heading bins. Defaults to 12.
        num_sizes (int): size classes: 1 (one size class shared by every
            category) or the number of detection classes (VoteNet's one
            size class per class).
        mean_size (sequence of 3 floats): the mean box size (dx, dy, dz) in
            metres. Defaults to (1.0, 1.0, 1.0), the mean fractal-scene box.
        with_rot (bool): predict headings. Defaults to True.
    """

    def __init__(self, num_sizes: int, num_dir_bins: int = 12, mean_size: Sequence[float] = (1.0, 1.0, 1.0), with_rot: bool = True) -> None:
        if len(mean_size) != 3:
            raise ValueError(f"mean_size must be 3 numbers, got {mean_size}")
        super().__init__(
            num_dir_bins=num_dir_bins,
            num_sizes=int(num_sizes),
            mean_sizes=[[float(v) for v in mean_size]] * int(num_sizes),
            with_rot=with_rot,
        )

    def encode(self, gt_bboxes_3d, gt_labels_3d: Tensor) -> tuple:
        """As ``PartialBinBasedBBoxCoder.encode``; with one shared size class
        every box's size class is 0."""
        if self.num_sizes == 1:
            gt_labels_3d = torch.zeros_like(gt_labels_3d)
        return super().encode(gt_bboxes_3d, gt_labels_3d)


@MODELS.register_module()
class FractalVoteHead(VoteHead):
    """``VoteHead`` with class-aware top-k per-class proposals at test time.

    Same arguments, layers and losses as ``VoteHead`` (checkpoints load into
    either); one more ``test_cfg`` key:

    * ``max_classes_per_proposal`` (int, optional): with
      ``per_class_proposal=True``, copy each kept proposal for its ``k`` most
      probable classes only (scores objectness x class probability, as
      VoteHead's copies). None: every class (VoteHead's behaviour).
    """

    def multiclass_nms_single(self, obj_scores: Tensor, sem_scores: Tensor, bbox: Tensor, points: Tensor, input_meta: dict) -> tuple:
        k = self.test_cfg.get("max_classes_per_proposal")
        num_classes = sem_scores.shape[-1]
        if not self.test_cfg.per_class_proposal or k is None or int(k) >= num_classes:
            return super().multiclass_nms_single(obj_scores, sem_scores, bbox, points, input_meta)
        selected, boxes = self._nms_selected(obj_scores, sem_scores, bbox, points, input_meta)
        k = int(k)
        top_p, top_c = sem_scores[selected].topk(k, dim=-1)  # (n, k)
        # the same order as VoteHead's copies: class rank outer, box inner
        scores = (obj_scores[selected][:, None] * top_p).T.reshape(-1)
        labels = top_c.T.reshape(-1)
        return boxes[selected].tensor.repeat(k, 1), scores, labels

    def _nms_selected(self, obj_scores: Tensor, sem_scores: Tensor, bbox: Tensor, points: Tensor, input_meta: dict) -> tuple:
        """VoteHead's selection: boxes holding more than 5 points, 3D NMS
        per argmax class (``test_cfg.nms_thr``) and objectness above
        ``test_cfg.score_thr``. Returns (boolean mask, boxes)."""
        bbox = input_meta["box_type_3d"](bbox, box_dim=bbox.shape[-1], with_yaw=self.bbox_coder.with_rot, origin=(0.5, 0.5, 0.5))
        box_indices = bbox.points_in_boxes_all(points)
        corners = bbox.corners
        minmax = torch.cat([corners.min(dim=1)[0], corners.max(dim=1)[0]], 1)
        nonempty = box_indices.T.sum(1) > 5
        classes = torch.argmax(sem_scores, -1)
        keep = aligned_3d_nms(minmax[nonempty], obj_scores[nonempty], classes[nonempty], self.test_cfg.nms_thr)
        nonempty_inds = torch.nonzero(nonempty, as_tuple=False).flatten()
        selected = torch.zeros_like(nonempty)
        selected[nonempty_inds[keep]] = True
        selected &= obj_scores > self.test_cfg.score_thr
        return selected, bbox


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

    def __init__(
        self,
        backbone: dict,
        num_classes: int,
        feat_channels: int = 256,
        hidden_channels: Sequence[int] = (256,),
        dropout: float = 0.5,
        pool: str = "fp",
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type="Det3DDataPreprocessor")
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pool not in ("fp", "sa"):
            raise ValueError(f"pool must be 'fp' or 'sa', got {pool!r}")
        self.pool = pool
        self.num_classes = int(num_classes)
        self.backbone = MODELS.build(backbone)
        layers: List[nn.Module] = []
        c = feat_channels
        for h in hidden_channels:
            layers += [nn.Linear(c, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            c = h
        layers.append(nn.Linear(c, self.num_classes))
        self.cls_head = nn.Sequential(*layers)

    def extract_feat(self, points: Union[Tensor, List[Tensor]]) -> Tensor:
        """(B, N, C) points (or a list of (N, C)) -> (B, feat_channels)."""
        if isinstance(points, (list, tuple)):
            points = torch.stack(points)
        feats = self.backbone(points)
        key = "fp_features" if self.pool == "fp" else "sa_features"
        return feats[key][-1].max(dim=-1)[0]

    def forward(self, inputs: Dict[str, Union[Tensor, List[Tensor]]], data_samples: Optional[list] = None, mode: str = "tensor"):
        logits = self.cls_head(self.extract_feat(inputs["points"]))
        if mode == "tensor":
            return logits
        if mode == "loss":
            labels = torch.cat([s.gt_instances_3d.labels_3d.reshape(-1)[:1] for s in data_samples]).to(logits.device)
            loss = F.cross_entropy(logits, labels)
            acc = (logits.argmax(1) == labels).float().mean()
            return dict(loss_cls=loss, acc=acc.detach())
        if mode == "predict":
            scores = logits.softmax(dim=1)
            for sample, score in zip(data_samples, scores):
                pred = InstanceData()  # one "instance": the whole cloud
                pred.scores = score.detach()[None]  # (1, num_classes)
                pred.labels = score.argmax().reshape(1)
                sample.pred_instances = pred
            return data_samples
        raise ValueError(f"mode must be tensor, loss or predict, got {mode!r}")
