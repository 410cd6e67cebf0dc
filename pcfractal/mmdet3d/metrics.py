"""Metrics for fractal-scene detection, small evaluation sets and
PC-FractalDB classification (registered in mmdet3d's METRICS).

``PresentClassesIndoorMetric``
    mmdet3d's ``IndoorMetric`` (mAP / mAR at IoU 0.25 and 0.5 with rotated 3D
    IoU, the numbers reported for ScanNetV2 and SUN RGB-D) made usable with
    many classes or few evaluation scenes (fractal scenes, test fixtures; the
    full ScanNetV2 / SUN RGB-D configs keep mmdet3d's IndoorMetric):

    * a class that has no ground-truth box in the evaluated scenes gets no AP
      (``indoor_eval`` would count it with zero positives, which makes its
      recall 0/0 and the whole mAP NaN as soon as the model predicts it; with
      1,000 fractal categories and a few held-out scenes that always happens).
      Predictions of such classes are dropped, as COCO and VOC ignore classes
      without ground truth;
    * with ``class_agnostic=True`` it also reports ``object_mAP_0.25`` /
      ``object_mAP_0.50``: every box is one class and each distinct predicted
      box counts once with its best score (VoteNet emits a proposal once per
      class). This is the localisation part of the task, which a short
      pre-training learns long before it tells 1,000 categories apart;
    * with many classes (more than ``PER_CLASS_LIMIT``, 50) the per-class AP
      keys and mmdet3d's per-class table are left out of the results and the
      log (1,000 rows every validation), unless ``per_class_results=True``;
      ``mAP_*`` / ``mAR_*`` are always there.

    Its cost is linear in the predicted boxes; the fractal pre-training
    configs keep those bounded with ``FractalVoteHead``'s
    ``max_classes_per_proposal`` (class-aware top-k).
``ClassificationAccuracy``
    top-1 / top-5 accuracy of ``PointNet2Classifier`` predictions.

numpy >= 2 fix for mmdet3d's ``indoor_eval`` (what IndoorMetric calls for
ScanNetV2 and SUN RGB-D): its AP values are 1-element arrays and it prints
its table with ``float(ap)``, which numpy 2.x refuses ("only 0-dimensional
arrays can be converted to Python scalars"), so every evaluation crashed
after computing its numbers. :func:`install_numpy2_fix` (run on import)
wraps ``eval_map_recall`` in mmdet3d's module so that the AP values it
returns are 1-element arrays that also convert with ``float()``; the numbers
are unchanged. :func:`uninstall_numpy2_fix` restores the original.
"""

from __future__ import annotations

import importlib
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmdet3d.evaluation import indoor_eval
from mmdet3d.evaluation.metrics import IndoorMetric
from mmdet3d.registry import METRICS
from mmdet3d.structures import get_box_type
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

__all__ = ["PresentClassesIndoorMetric", "ClassificationAccuracy", "install_numpy2_fix", "uninstall_numpy2_fix"]


class _ScalarArray(np.ndarray):
    """A 1-element array that ``float()`` accepts under numpy 2."""

    def __float__(self) -> float:
        return float(np.asarray(self).reshape(-1)[0])


def _as_scalar_arrays(per_thr: list) -> list:
    return [{label: np.asarray(v).reshape(-1).view(_ScalarArray) if np.size(v) == 1 else v for label, v in d.items()} for d in per_thr]


def _indoor_eval_module():
    # the package re-exports the function under the module's name
    return importlib.import_module("mmdet3d.evaluation.functional.indoor_eval")


def install_numpy2_fix() -> None:
    """Make mmdet3d's indoor_eval print its table under numpy 2
    (idempotent)."""
    mod = _indoor_eval_module()
    orig = mod.eval_map_recall
    if getattr(orig, "_pcfractal_numpy2_fix", False):
        return

    def eval_map_recall(pred, gt, ovthresh=None):
        rec, prec, ap = orig(pred, gt, ovthresh)
        return rec, prec, _as_scalar_arrays(ap)

    eval_map_recall._pcfractal_numpy2_fix = True
    eval_map_recall._pcfractal_original = orig
    mod.eval_map_recall = eval_map_recall


def uninstall_numpy2_fix() -> None:
    """Put mmdet3d's own eval_map_recall back."""
    mod = _indoor_eval_module()
    orig = getattr(mod.eval_map_recall, "_pcfractal_original", None)
    if orig is not None:
        mod.eval_map_recall = orig


def _present_labels(ann_infos: List[dict]) -> set:
    labels = set()
    for ann in ann_infos:
        labels.update(int(v) for v in np.asarray(ann["gt_labels_3d"]))
    return labels


def _keep_labels(pred: dict, labels: set) -> dict:
    lab = pred["labels_3d"]
    keep = torch.isin(lab, torch.tensor(sorted(labels), dtype=lab.dtype))
    return dict(bboxes_3d=pred["bboxes_3d"][keep], scores_3d=pred["scores_3d"][keep], labels_3d=lab[keep])


def _agnostic_pred(pred: dict) -> dict:
    boxes = pred["bboxes_3d"]
    if len(boxes) == 0:
        return dict(bboxes_3d=boxes, scores_3d=pred["scores_3d"], labels_3d=pred["labels_3d"].new_zeros(0))
    uniq, inverse = torch.unique(boxes.tensor, dim=0, return_inverse=True)
    scores = torch.full((len(uniq),), -float("inf"), dtype=pred["scores_3d"].dtype)
    scores = scores.scatter_reduce(0, inverse, pred["scores_3d"], "amax")
    return dict(bboxes_3d=boxes.new_box(uniq), scores_3d=scores, labels_3d=torch.zeros(len(uniq), dtype=torch.long))


def _agnostic_ann(ann: dict) -> dict:
    return dict(gt_bboxes_3d=ann["gt_bboxes_3d"], gt_labels_3d=np.zeros(len(np.asarray(ann["gt_labels_3d"])), np.int64))


@METRICS.register_module()
class PresentClassesIndoorMetric(IndoorMetric):
    """IndoorMetric over the classes present in the ground truth, plus an
    optional class-agnostic mAP.

    Args:
        iou_thr (list of float): IoU thresholds. Defaults to [0.25, 0.5].
        class_agnostic (bool): also report ``object_mAP_*`` /
            ``object_mAR_*``. Defaults to True.
        per_class_results (bool, optional): report each class's AP and log
            mmdet3d's per-class table. Defaults to None: only with at most
            ``PER_CLASS_LIMIT`` classes.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): metric name prefix.
    """

    PER_CLASS_LIMIT = 50

    def __init__(
        self,
        iou_thr: List[float] = [0.25, 0.5],
        class_agnostic: bool = True,
        per_class_results: Optional[bool] = None,
        collect_device: str = "cpu",
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(iou_thr=iou_thr, collect_device=collect_device, prefix=prefix)
        self.class_agnostic = class_agnostic
        self.per_class_results = per_class_results

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        anns = [ann for ann, _ in results]
        preds = [pred for _, pred in results]
        _, box_mode_3d = get_box_type(self.dataset_meta.get("box_type_3d", "depth"))
        present = _present_labels(anns)
        classes = self.dataset_meta["classes"]
        per_class = self.per_class_results
        if per_class is None:
            per_class = len(classes) <= self.PER_CLASS_LIMIT
        ret: Dict[str, float] = {}
        if present:
            res = indoor_eval(
                anns,
                [_keep_labels(p, present) for p in preds],
                self.iou_thr,
                classes,
                logger=logger if per_class else "silent",
                box_mode_3d=box_mode_3d,
            )
            if not per_class:
                res = {k: v for k, v in res.items() if k.startswith("mA")}
                logger.info(
                    f"{len(classes)} classes ({len(present)} present in "
                    f"{len(anns)} scenes): " + ", ".join(f"{k} {v:.4f}" for k, v in res.items())
                )
            ret.update(res)
        else:
            for thr in self.iou_thr:
                ret[f"mAP_{thr:.2f}"] = 0.0
                ret[f"mAR_{thr:.2f}"] = 0.0
        if self.class_agnostic:
            agn = indoor_eval(
                [_agnostic_ann(a) for a in anns],
                [_agnostic_pred(p) for p in preds],
                self.iou_thr,
                ("object",),
                logger=logger,
                box_mode_3d=box_mode_3d,
            )
            for thr in self.iou_thr:
                ret[f"object_mAP_{thr:.2f}"] = agn.get(f"mAP_{thr:.2f}", 0.0)
                ret[f"object_mAR_{thr:.2f}"] = agn.get(f"mAR_{thr:.2f}", 0.0)
        return ret


@METRICS.register_module()
class ClassificationAccuracy(BaseMetric):
    """Top-k accuracy (in %) of ``PointNet2Classifier``.

    Args:
        topk (sequence of int): Defaults to (1, 5).
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): metric name prefix.
    """

    default_prefix = "cls"

    def __init__(self, topk: Sequence[int] = (1, 5), collect_device: str = "cpu", prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(int(k) for k in topk)

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else lambda k: getattr(sample, k)
            pred = get("pred_instances")
            gt = get("gt_instances_3d")
            scores = pred["scores"] if isinstance(pred, dict) else pred.scores
            labels = gt["labels_3d"] if isinstance(gt, dict) else gt.labels_3d
            self.results.append((scores.cpu().float().reshape(-1), int(labels.reshape(-1)[0])))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        scores = torch.stack([s for s, _ in results])
        labels = torch.tensor([t for _, t in results])
        ret = {}
        for k in self.topk:
            k_eff = min(k, scores.shape[1])
            top = scores.topk(k_eff, dim=1).indices
            hit = (top == labels[:, None]).any(1).float().mean().item()
            ret[f"top{k}"] = 100.0 * hit
        return ret


install_numpy2_fix()
