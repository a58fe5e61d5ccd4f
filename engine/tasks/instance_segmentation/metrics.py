"""Instance segmentation scores: COCO mask and box mAP (torchmetrics, faster-coco-eval backend), per-class mask AP,
and how far two predictions' masks agree."""

from __future__ import annotations

import numpy as np
import torch

from engine.inference.prediction import Prediction
from engine.tasks.detection.metrics import DetectionMetrics
from engine.tasks.instance_segmentation.data import decode

MASK_MATCH_IOU = 0.5


def target_masks(target: dict) -> np.ndarray:
    """A target's masks as (N, H, W) booleans: RLE (a stored split) or a tensor (a training batch)."""
    masks = target["masks"]
    if isinstance(masks, list):
        return decode(masks, tuple(target["hw"]))
    return np.asarray(masks, dtype=bool)


class InstanceMetrics(DetectionMetrics):
    """Mask mAP@0.5 (the primary metric), mask mAP@0.5:0.95, box mAP@0.5 and @0.5:0.95, per-class mask AP."""

    iou_type = ("bbox", "segm")
    per_class_field = "segm_map_per_class"

    def prediction(self, p: Prediction, target: dict) -> dict:
        masks = p.instance_masks
        if len(masks) != len(p.boxes):  # no masks (nothing found): empty ones of the target's size
            masks = np.zeros((len(p.boxes), *_image_hw(target)), dtype=bool)
        return {**super().prediction(p, target), "masks": torch.as_tensor(masks)}

    def target(self, t: dict) -> dict:
        return {**super().target(t), "masks": torch.as_tensor(target_masks(t))}

    def scalars(self, coco: dict) -> dict[str, float]:
        names = {"map_50": "segm_map_50", "map": "segm_map", "box_map_50": "bbox_map_50", "box_map": "bbox_map"}
        return {key: max(float(coco[field]), 0.0) for key, field in names.items()}


def _image_hw(target: dict) -> tuple[int, int]:
    masks = target["masks"]
    return tuple(target["hw"]) if isinstance(masks, list) else tuple(np.shape(masks)[-2:])


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
