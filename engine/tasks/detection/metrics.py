"""Detection scores: COCO mAP (torchmetrics) with per-class AP, and box matching between two predictions."""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.detection import MeanAveragePrecision
from torchvision.ops import box_iou

from engine.inference.prediction import Prediction

SHOW_THRESHOLD = 0.3  # detections below this score are not drawn nor compared (mAP uses them all)
MATCH_IOU = 0.5


class DetectionMetrics:
    """COCO mAP@0.5, mAP@0.5:0.95, per-class AP (torchmetrics, faster-coco-eval backend). A subclass scores
    another COCO ``iou_type`` by what it adds to each prediction and target (instance segmentation: masks)."""

    iou_type: str | tuple[str, ...] = "bbox"
    per_class_field = "map_per_class"  # the torchmetrics result read for per-class AP

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        common = {"box_format": "xyxy", "iou_type": self.iou_type, "class_metrics": True, "backend": "faster_coco_eval"}
        common["sync_on_compute"] = False  # one process scores (rank 0 of a distributed fit)
        self.coco = MeanAveragePrecision(**common)
        self.at_50 = MeanAveragePrecision(iou_thresholds=[0.5], **common)

    def prediction(self, p: Prediction, target: dict) -> dict:
        return {
            "boxes": torch.as_tensor(p.boxes, dtype=torch.float32).reshape(-1, 4),
            "scores": torch.as_tensor(p.box_scores, dtype=torch.float32),
            "labels": torch.as_tensor(p.box_labels, dtype=torch.int64),
        }

    def target(self, t: dict) -> dict:
        return {
            "boxes": torch.as_tensor(np.asarray(t["boxes"]), dtype=torch.float32).reshape(-1, 4),
            "labels": torch.as_tensor(np.asarray(t["labels"]), dtype=torch.int64),
        }

    def scalars(self, coco: dict) -> dict[str, float]:
        return {key: max(float(coco[key]), 0.0) for key in ("map_50", "map", "map_75")}

    def update_predictions(self, predictions: list[Prediction], targets: list) -> None:
        preds = [self.prediction(p, t) for p, t in zip(predictions, targets, strict=True)]
        gts = [self.target(t) for t in targets]
        self.coco.update(preds, gts)
        self.at_50.update(preds, gts)

    def compute(self) -> dict:
        coco, at_50 = self.coco.compute(), self.at_50.compute()
        out: dict = self.scalars(coco)
        for key, result in (("per_class_ap", coco), ("per_class_ap50", at_50)):
            classes = torch.atleast_1d(result["classes"]).tolist()
            values = torch.atleast_1d(result[self.per_class_field]).tolist()
            by_index = dict(zip(classes, values, strict=True))
            out[key] = {
                name: (None if by_index.get(i, -1) < 0 else float(by_index[i])) for i, name in enumerate(self.labels)
            }
        return out


def match(a: Prediction, b: Prediction, threshold: float = SHOW_THRESHOLD, iou: float = MATCH_IOU) -> tuple[int, int]:
    """Greedy one-to-one matching of a's boxes (score >= threshold) to b's of the same class with IoU >= iou.

    Returns (matched, boxes of a considered)."""
    a, b = a.above(threshold), b.above(threshold)
    if len(a.boxes) == 0 or len(b.boxes) == 0:
        return 0, len(a.boxes)
    ious = box_iou(torch.as_tensor(a.boxes), torch.as_tensor(b.boxes)).numpy()
    ious[a.box_labels[:, None] != b.box_labels[None, :]] = 0
    used, matched = set(), 0
    for i in range(len(a.boxes)):
        candidates = [(ious[i, j], j) for j in range(len(b.boxes)) if j not in used and ious[i, j] >= iou]
        if candidates:
            used.add(max(candidates)[1])
            matched += 1
    return matched, len(a.boxes)
