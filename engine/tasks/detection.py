"""Object detection: boxes read from Datumaro, scored (COCO mAP), post-processed, drawn, described."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchmetrics.detection import MeanAveragePrecision
from torchvision.ops import box_iou

from engine.inference.prediction import Prediction
from engine.models import detection as det_models
from engine.tasks.segmentation import colour

MODEL_TYPE = "SSD"  # Model API's detection wrapper that reads boxes [1, N, 5] + labels [1, N]
SHOW_THRESHOLD = 0.3  # detections below this score are not drawn nor compared (mAP uses them all)
MATCH_IOU = 0.5


def extract_target(item: dm.DatasetItem, labels: list[str]) -> tuple[dict | None, tuple[str, str] | None]:
    """Boxes (x1 y1 x2 y2, clipped to the image) and 0-based labels; an image without boxes is a negative."""
    size = getattr(item.media, "size", None)  # (h, w)
    boxes, classes = [], []
    for ann in item.annotations:
        if ann.type != dm.AnnotationType.bbox or ann.label is None or not 0 <= ann.label < len(labels):
            continue
        x, y, w, h = ann.get_bbox()
        x1, y1, x2, y2 = x, y, x + w, y + h
        if size:
            x1, x2 = np.clip([x1, x2], 0, size[1])
            y1, y2 = np.clip([y1, y2], 0, size[0])
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        boxes.append([float(x1), float(y1), float(x2), float(y2)])
        classes.append(int(ann.label))
    target = {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4), "labels": np.asarray(classes, np.int64)}
    return target, None


def classes_of(target: dict) -> list[int]:
    return [int(c) for c in target["labels"]]


def target_stats(targets: Iterable[dict], labels: list[str]) -> dict:
    """Boxes per image and box sizes (COCO small/medium/large by area, and width/height samples)."""
    per_image, sizes, buckets = [], [], {"small (<32²)": 0, "medium": 0, "large (>96²)": 0}
    for target in targets:
        boxes = np.asarray(target["boxes"]).reshape(-1, 4)
        per_image.append(len(boxes))
        for x1, y1, x2, y2 in boxes:
            w, h = float(x2 - x1), float(y2 - y1)
            if len(sizes) < 5000:
                sizes.append([round(w, 1), round(h, 1)])
            area = w * h
            buckets["small (<32²)" if area < 32**2 else "large (>96²)" if area > 96**2 else "medium"] += 1
    spread = {"min": min(per_image), "median": statistics.median(per_image), "max": max(per_image)} if per_image else {}
    return {
        "boxes_per_image": {**spread, "histogram": {str(n): per_image.count(n) for n in sorted(set(per_image))}},
        "box_size_buckets": buckets,
        "box_sizes": sizes,
    }


def caption(target: dict, labels: list[str]) -> str:
    names = [labels[c] for c in target["labels"] if c < len(labels)]
    return ", ".join(f"{n}×{names.count(n)}" for n in sorted(set(names))) or "no objects"


def train_loss(model: torch.nn.Module, images: torch.Tensor, targets: list[dict]) -> torch.Tensor:
    """torchvision's own detector losses (classification + box regression), with background as class 0."""
    shifted = [{"boxes": t["boxes"], "labels": t["labels"] + 1} for t in targets]
    losses = model(list(images), shifted)
    return sum(losses.values())


def export_module(model: torch.nn.Module, img_size: int) -> torch.nn.Module:
    return det_models.DetectorNetwork(model).eval()


def torch_outputs(model: torch.nn.Module, batch: torch.Tensor) -> list[list[np.ndarray]]:
    """The IR's outputs (boxes [1, N, 5], labels [1, N]) computed by torchvision's decoding and NMS."""
    return [_as_outputs(det) for det in det_models.detect(model, batch)]


def evaluate_batch(model: torch.nn.Module, images: torch.Tensor, targets: list[dict]):
    """The per-image outputs; torchvision detectors compute their losses only in train mode (no val loss)."""
    return torch_outputs(model, images), None


def decode_raw(model: torch.nn.Module, raw: list[np.ndarray], img_size: int) -> list[np.ndarray]:
    """The IR's outputs from the network's raw ones (used while NNCF scores a network without its NMS)."""
    with torch.inference_mode():
        (det,) = det_models.decode_raw(model, *(torch.from_numpy(np.asarray(r)) for r in raw), img_size)
    return _as_outputs(det)


def _as_outputs(det: dict[str, torch.Tensor]) -> list[np.ndarray]:
    boxes = torch.cat([det["boxes"], det["scores"][:, None]], dim=1)
    return [boxes[None].numpy(), det["labels"][None].numpy()]


def finish_ir(network, model: torch.nn.Module, img_size: int):
    """Append float decoding + NMS to the (possibly quantized) network IR."""
    from engine.export import detection_postprocess

    arch = det_models.arch_of(model)
    with torch.no_grad():
        images = torch.zeros(1, 3, img_size, img_size)
        features, _ = det_models.head_outputs(model.eval(), images)
        anchors = det_models.anchors_for(model, images, features)[0].numpy()
    return detection_postprocess.append(
        network,
        anchors,
        scores=arch.scores,
        box_weights=arch.box_weights,
        img_size=img_size,
        score_threshold=det_models.SCORE_THRESHOLD,
        iou_threshold=det_models.NMS_IOU,
        topk_per_class=det_models.TOPK_PER_CLASS,
        max_detections=det_models.MAX_DETECTIONS,
    )


def postprocess(outputs: list[np.ndarray], image_hw: tuple[int, int], input_hw: tuple[int, int]) -> Prediction:
    boxes = np.asarray(outputs[0], dtype=np.float32).reshape(-1, 5)
    labels = np.asarray(outputs[1]).reshape(-1).astype(np.int64)
    scale = np.array([image_hw[1] / input_hw[1], image_hw[0] / input_hw[0]] * 2, dtype=np.float32)
    order = np.argsort(-boxes[:, 4], kind="stable")
    boxes, labels = boxes[order], labels[order]
    top = float(boxes[0, 4]) if len(boxes) else 0.0
    return Prediction(
        task="detection", boxes=boxes[:, :4] * scale, box_scores=boxes[:, 4], box_labels=labels, score=top
    )


class DetectionMetrics:
    """COCO mAP@0.5, mAP@0.5:0.95, per-class AP (torchmetrics, faster-coco-eval backend)."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.coco = MeanAveragePrecision(
            box_format="xyxy", iou_type="bbox", class_metrics=True, backend="faster_coco_eval"
        )
        self.at_50 = MeanAveragePrecision(
            box_format="xyxy", iou_type="bbox", iou_thresholds=[0.5], class_metrics=True, backend="faster_coco_eval"
        )

    def update_predictions(self, predictions: list[Prediction], targets: list) -> None:
        preds = [
            {
                "boxes": torch.as_tensor(p.boxes, dtype=torch.float32).reshape(-1, 4),
                "scores": torch.as_tensor(p.box_scores, dtype=torch.float32),
                "labels": torch.as_tensor(p.box_labels, dtype=torch.int64),
            }
            for p in predictions
        ]
        gts = [
            {
                "boxes": torch.as_tensor(np.asarray(t["boxes"]), dtype=torch.float32).reshape(-1, 4),
                "labels": torch.as_tensor(np.asarray(t["labels"]), dtype=torch.int64),
            }
            for t in targets
        ]
        self.coco.update(preds, gts)
        self.at_50.update(preds, gts)

    def compute(self) -> dict:
        coco, at_50 = self.coco.compute(), self.at_50.compute()
        out = {
            "map_50": max(float(coco["map_50"]), 0.0),
            "map": max(float(coco["map"]), 0.0),
            "map_75": max(float(coco["map_75"]), 0.0),
        }
        for key, result in (("per_class_ap", coco), ("per_class_ap50", at_50)):
            classes = torch.atleast_1d(result["classes"]).tolist()
            values = torch.atleast_1d(result["map_per_class"]).tolist()
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


def agreement(a: Prediction, b: Prediction) -> float:
    """Share of the confident boxes of either prediction that the other one also finds (1.0 if neither has any)."""
    ab, na = match(a, b)
    ba, nb = match(b, a)
    if na + nb == 0:
        return 1.0
    return (ab + ba) / (na + nb)


def draw(image: np.ndarray, prediction: Prediction, labels: list[str]) -> Image.Image:
    """Boxes with class name and score for detections scoring at least SHOW_THRESHOLD."""
    canvas = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
    scale = 1.0
    if max(canvas.size) < 384:
        scale = 384 / max(canvas.size)
        canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)), Image.Resampling.BILINEAR)
    shown = prediction.above(SHOW_THRESHOLD)
    font = ImageFont.load_default(size=max(11, canvas.height // 28))
    d = ImageDraw.Draw(canvas)
    for box, score, label in sorted(
        zip(shown.boxes, shown.box_scores, shown.box_labels, strict=True), key=lambda r: r[1]
    ):
        x1, y1, x2, y2 = (float(v) * scale for v in box)
        rgb = colour(int(label) + 1)
        d.rectangle([x1, y1, x2, y2], outline=rgb, width=max(2, canvas.height // 160))
        name = labels[label] if 0 <= label < len(labels) else str(label)
        text = f"{name} {score:.0%}"
        *_, right, bottom = d.textbbox((x1 + 3, y1 + 1), text, font=font)
        top = max(y1 - (bottom - y1) - 2, 0)
        d.rectangle([x1, top, right + 3, top + (bottom - y1) + 2], fill=rgb)
        d.text((x1 + 3, top + 1), text, fill=(0, 0, 0), font=font)
    return canvas


def summarize(prediction: Prediction, labels: list[str]) -> dict:
    shown = prediction.above(SHOW_THRESHOLD)
    return {
        "threshold": SHOW_THRESHOLD,
        "detections": [
            {
                "label": int(c),
                "label_name": labels[c] if 0 <= c < len(labels) else str(c),
                "score": round(float(s), 4),
                "box": [round(float(v), 1) for v in b],
            }
            for b, s, c in zip(shown.boxes, shown.box_scores, shown.box_labels, strict=True)
        ],
    }


def brief(prediction: Prediction, labels: list[str]) -> str:
    return caption({"labels": prediction.above(SHOW_THRESHOLD).box_labels}, labels)


def ground_truth(target: dict) -> Prediction:
    boxes = np.asarray(target["boxes"], np.float32).reshape(-1, 4)
    return Prediction(
        task="detection",
        boxes=boxes,
        box_scores=np.ones(len(boxes), np.float32),
        box_labels=np.asarray(target["labels"]),
    )


def model_info(labels: list[str]) -> dict[str, str]:
    return {
        "model_type": MODEL_TYPE,
        "confidence_threshold": str(SHOW_THRESHOLD),
        "iou_threshold": str(det_models.NMS_IOU),
        "output_format": "boxes [1,N,5] x1 y1 x2 y2 score in input pixels; labels [1,N] 0-based; NMS included",
    }
