"""Instance segmentation scores: COCO mask and box mAP (torchmetrics, faster-coco-eval backend), per-class mask AP,
and how far two predictions' masks agree."""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.detection import MeanAveragePrecision

from engine.inference.prediction import Prediction
from engine.tasks.instance_segmentation.data import decode

MASK_MATCH_IOU = 0.5


def target_masks(target: dict) -> np.ndarray:
    """A target's masks as (N, H, W) booleans: RLE (a stored split) or a tensor (a training batch)."""
    masks = target["masks"]
    if isinstance(masks, list):
        return decode(masks, tuple(target["hw"]))
    return np.asarray(masks, dtype=bool)


class InstanceMetrics:
    """Mask mAP@0.5 (the primary metric), mask mAP@0.5:0.95, box mAP@0.5 and per-class mask AP."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        common = {"box_format": "xyxy", "iou_type": ("bbox", "segm"), "class_metrics": True}
        common |= {"backend": "faster_coco_eval", "sync_on_compute": False}
        self.coco = MeanAveragePrecision(**common)
        self.at_50 = MeanAveragePrecision(iou_thresholds=[0.5], **common)

    def update_predictions(self, predictions: list[Prediction], targets: list) -> None:
        preds = [
            {
                "boxes": torch.as_tensor(p.boxes, dtype=torch.float32).reshape(-1, 4),
                "scores": torch.as_tensor(p.box_scores, dtype=torch.float32),
                "labels": torch.as_tensor(p.box_labels, dtype=torch.int64),
                "masks": torch.as_tensor(_full_size(p)),
            }
            for p in predictions
        ]
        gts = [
            {
                "boxes": torch.as_tensor(np.asarray(t["boxes"]), dtype=torch.float32).reshape(-1, 4),
                "labels": torch.as_tensor(np.asarray(t["labels"]), dtype=torch.int64),
                "masks": torch.as_tensor(target_masks(t)),
            }
            for t in targets
        ]
        for pred, gt in zip(preds, gts, strict=True):
            if pred["masks"].shape[1:] != gt["masks"].shape[1:]:  # no prediction: an empty mask of the target's size
                pred["masks"] = torch.zeros((len(pred["boxes"]), *gt["masks"].shape[1:]), dtype=torch.bool)
        self.coco.update(preds, gts)
        self.at_50.update(preds, gts)

    def compute(self) -> dict:
        coco, at_50 = self.coco.compute(), self.at_50.compute()
        out = {
            "map_50": max(float(coco["segm_map_50"]), 0.0),
            "map": max(float(coco["segm_map"]), 0.0),
            "box_map_50": max(float(coco["bbox_map_50"]), 0.0),
            "box_map": max(float(coco["bbox_map"]), 0.0),
        }
        for key, result in (("per_class_ap", coco), ("per_class_ap50", at_50)):
            classes = torch.atleast_1d(result["classes"]).tolist()
            values = torch.atleast_1d(result["segm_map_per_class"]).tolist()
            by_index = dict(zip(classes, values, strict=True))
            out[key] = {
                name: (None if by_index.get(i, -1) < 0 else float(by_index[i])) for i, name in enumerate(self.labels)
            }
        return out


def _full_size(prediction: Prediction) -> np.ndarray:
    masks = prediction.instance_masks
    return masks if len(masks) == len(prediction.boxes) else np.zeros((len(prediction.boxes), 0, 0), dtype=bool)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mask_agreement(a: Prediction, b: Prediction) -> float:
    """Share of the instances of either prediction the other has with the same class and a mask IoU of at least
    0.5, each instance matched once (1.0 if neither has any)."""
    if len(a.boxes) + len(b.boxes) == 0:
        return 1.0
    found = 0
    for x, y in ((a, b), (b, a)):
        used: set[int] = set()
        for mask, label in zip(x.instance_masks, x.box_labels, strict=False):
            ious = [
                (mask_iou(mask, other), j)
                for j, (other, other_label) in enumerate(zip(y.instance_masks, y.box_labels, strict=False))
                if j not in used and other_label == label and other.shape == mask.shape
            ]
            best = max(ious, default=(0.0, -1))
            if best[0] >= MASK_MATCH_IOU:
                used.add(best[1])
                found += 1
    return found / (len(a.boxes) + len(b.boxes))
