"""Object detection: boxes read from Datumaro, scored (COCO mAP), post-processed, drawn, described."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from types import MappingProxyType

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw
from torchvision.ops import box_iou

from engine.drawing import colour, enlarged, font
from engine.inference.prediction import Prediction
from engine.tasks.base import SIZE_STEP, Outputs, SampleRecipe, Task, image_based_size, label_name
from engine.tasks.detection import FORMATS, METRIC_NAME, PRIMARY_METRIC, models
from engine.tasks.detection.data import DetectionDataset, collate
from engine.tasks.detection.metrics import SHOW_THRESHOLD, DetectionMetrics, match

SIZE_BUCKETS = ("small (<32²)", "medium", "large (>96²)")  # COCO's object sizes by area


def _as_outputs(det: dict[str, torch.Tensor]) -> Outputs:
    boxes = torch.cat([det["boxes"], det["scores"][:, None]], dim=1)
    return [boxes[None].numpy(), det["labels"][None].numpy()]


class Detection(Task):
    name = "detection"
    metric_name = METRIC_NAME
    primary_metric = PRIMARY_METRIC
    max_drop = 0.01  # one mAP point
    per_class_columns = MappingProxyType({"per_class_ap50": "AP@0.5", "per_class_ap": "AP@0.5:0.95"})
    count_unit = "objects"
    deploy_result = (
        "for box, score, label in zip(result.bboxes, result.scores, result.label_names):\n"
        "    print(label, score, box)  # x1 y1 x2 y2 in image pixels\n"
        'print(f"{len(result.bboxes)} box(es) above the model\'s confidence_threshold")\n'
    )
    deploy_openvino_result = (
        "boxes, labels = outputs[0][0], outputs[1][0]  # (N, 5): x1 y1 x2 y2 score in input pixels; (N,)\n"
        "scale = np.array([image.shape[1] / w, image.shape[0] / h] * 2)\n"
        "for (*box, score), label in zip(boxes, labels):\n"
        "    if score >= 0.3:\n"
        '        print(LABELS[int(label)], f"{score:.0%}", (np.array(box) * scale).round(1))\n'
        'print(f"{int((boxes[:, 4] >= 0.3).sum())} box(es) scoring at least 30 %")\n'
    )

    annotations = (dm.AnnotationType.bbox,)
    formats = FORMATS
    min_classes = 1
    sample = SampleRecipe(
        "engine.tasks.detection.sample",
        tiny={"splits": (("train", 48), ("val", 8), ("test", 8))},
        project="SSDLite320, ~6 min",
    )

    archs = models.ARCHS
    default_arch = "ssdlite320_mobilenet_v3_large"
    train_defaults = models.TRAIN_DEFAULTS
    arch_train_defaults = models.ARCH_TRAIN_DEFAULTS
    output_names = ("boxes", "labels")
    network_output_names = ("cls_logits", "bbox_regression")  # before the decoding and NMS the IR appends
    collate_fn = staticmethod(collate)
    size_bounds = (192, 512)
    smallest_size = 128  # one P7 cell: RetinaNet's FPN reaches stride 128
    realistic_size = 320
    min_box_px = 16  # the median object's shorter side at the network's input: smaller ones the detectors miss

    def input_size(self, info):
        """The image-based size, raised (within the bounds) until the median box is ``min_box_px`` on its
        shorter side at the network's input."""
        size, why = image_based_size(info, self.size_bounds)
        boxes = [min(w, h) for w, h in info.get("box_sizes", []) if w > 0 and h > 0]
        spread = info.get("image_size") or {}
        side = min(float((spread.get(k) or {}).get("median") or 0) for k in ("width", "height"))
        if not boxes or side <= 0:
            return size, why
        box = statistics.median(boxes)
        needed = self.min_box_px * side / box  # the input size at which the median box is min_box_px
        if needed <= size:
            return size, f"{why}; the median box ({box:.0f} px) stays >= {self.min_box_px} px"
        lo, hi = self.size_bounds
        raised = min(max(-(-int(needed) // SIZE_STEP) * SIZE_STEP, lo), hi)
        return (
            raised,
            f"median box {box:.0f} px in {side:.0f}-px images: raised to keep it >= {self.min_box_px} px"
            f" (within {lo}-{hi} px)",
        )

    # --- data
    def extract_target(self, item, labels):
        """Boxes (x1 y1 x2 y2, clipped to the image) and 0-based labels; an image without boxes is a negative."""
        size = getattr(item.media, "size", None)  # (h, w)
        boxes, classes, dropped, clipped = [], [], [], []
        for ann in item.annotations:
            if ann.type != dm.AnnotationType.bbox:
                continue
            if ann.label is None or not 0 <= ann.label < len(labels):
                dropped.append("without a known label")
                continue
            x, y, w, h = ann.get_bbox()
            x1, y1, x2, y2 = x, y, x + w, y + h
            if size:
                x1, x2 = np.clip([x1, x2], 0, size[1])
                y1, y2 = np.clip([y1, y2], 0, size[0])
            box = f"[{x:g}, {y:g}, {w:g}, {h:g}] (x, y, w, h)"
            if x2 - x1 < 1 or y2 - y1 < 1:
                dropped.append(f"{box} is empty or outside the image")
                continue
            if max(abs(x1 - x), abs(y1 - y), abs(x2 - x - w), abs(y2 - y - h)) > 1:  # more than rounding
                clipped.append(f"{box} reaches outside the {size[1]}x{size[0]} image")
            boxes.append([float(x1), float(y1), float(x2), float(y2)])
            classes.append(int(ann.label))
        target = {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4), "labels": np.asarray(classes, np.int64)}
        if dropped:
            count = f"{len(dropped)} box{'es' if len(dropped) > 1 else ''}"
            return target, ("bad box", f"{count} dropped, e.g. {dropped[0]}; the image is kept with the others")
        if clipped:  # e.g. YOLO coordinates above 1: the box is cut to the image, and the user is told
            count = f"{len(clipped)} box{'es' if len(clipped) > 1 else ''}"
            return target, ("box clipped", f"{count} clipped to the image, e.g. {clipped[0]}; check the annotations")
        return target, None

    def classes_of(self, target: dict) -> list[int]:
        return [int(c) for c in target["labels"]]

    def statistics(self, targets: Iterable[dict], labels: list[str]) -> dict:
        """Boxes per image and box sizes (COCO small/medium/large by area, and width/height samples)."""
        per_image, sizes, buckets = [], [], dict.fromkeys(SIZE_BUCKETS, 0)
        for target in targets:
            boxes = np.asarray(target["boxes"]).reshape(-1, 4)
            per_image.append(len(boxes))
            for x1, y1, x2, y2 in boxes:
                w, h = float(x2 - x1), float(y2 - y1)
                if len(sizes) < 5000:
                    sizes.append([round(w, 1), round(h, 1)])
                area = w * h
                buckets[SIZE_BUCKETS[0] if area < 32**2 else SIZE_BUCKETS[2] if area > 96**2 else SIZE_BUCKETS[1]] += 1
        spread = (
            {"min": min(per_image), "median": statistics.median(per_image), "max": max(per_image)} if per_image else {}
        )
        return {
            "boxes_per_image": {**spread, "histogram": {str(n): per_image.count(n) for n in sorted(set(per_image))}},
            "box_size_buckets": buckets,
            "box_sizes": sizes,
        }

    def statistics_charts(self, info: dict) -> list[dict]:
        histogram = info.get("boxes_per_image", {}).get("histogram", {})
        return [
            {
                "kind": "bars",
                "title": "Boxes per image",
                "x": "boxes",
                "y": "images",
                "rows": [{"boxes": int(k), "images": v} for k, v in histogram.items()],
            },
            {
                "kind": "sizes",
                "title": "Box sizes (px)",
                "x": "width",
                "y": "height",
                "rows": [{"width": w, "height": h} for w, h in info.get("box_sizes", [])],
            },
        ]

    def dataset_notes(self, info: dict) -> list[str]:
        per_image = info.get("boxes_per_image", {})
        return [
            "(per-class counts are objects; total is images)",
            f"boxes per image: {per_image.get('min')}-{per_image.get('max')} (median {per_image.get('median')})",
            "box sizes: " + ", ".join(f"{k} {v}" for k, v in info.get("box_size_buckets", {}).items()),
        ]

    def make_dataset(self, samples, img_size, train, augment="basic"):
        return DetectionDataset(samples, img_size, train)

    # --- model
    def build_model(self, arch, num_classes, pretrained):
        return models.build_model(arch, num_classes, pretrained)

    def new_layers(self, model):
        """The detection head (only the backbone is pretrained), and the FPN where there is one."""
        fpn = getattr(model.backbone, "fpn", None)
        return [model.head, *([fpn] if fpn is not None else [])]

    def output_layers(self, model):
        """The head's last convolutions, which lay out per-anchor class scores and box deltas."""
        keep = []
        for branch in (model.head.classification_head, model.head.regression_head):
            if hasattr(branch, "module_list"):  # SSD(Lite): one conv stack per feature map
                stacks = [
                    [m for m in block.modules() if isinstance(m, torch.nn.Conv2d)] for block in branch.module_list
                ]
                keep += [convs[-1] for convs in stacks]
            else:  # RetinaNet: convs shared by every level, then one output conv
                keep.append(getattr(branch, "cls_logits", None) or branch.bbox_reg)
        return keep

    def export_module(self, model):
        """Backbone + head only (per-anchor logits and box deltas): decoding and NMS are appended in float."""
        return models.DetectorNetwork(model).eval()

    def finish_ir(self, network, model, img_size):
        """Append float decoding + NMS to the (possibly quantized) network IR."""
        from engine.export import detection_postprocess

        arch = models.arch_of(model)
        with torch.no_grad():
            images = torch.zeros(1, 3, img_size, img_size)
            features, _ = models.head_outputs(model.eval(), images)
            anchors = models.anchors_for(model, images, features)[0].numpy()
        return detection_postprocess.append(
            network,
            anchors,
            scores=arch.scores,
            box_weights=arch.box_weights,
            img_size=img_size,
            score_threshold=models.SCORE_THRESHOLD,
            iou_threshold=models.NMS_IOU,
            topk_per_class=models.TOPK_PER_CLASS,
            max_detections=models.MAX_DETECTIONS,
        )

    def decode_raw(self, model, raw, img_size):
        """The IR's outputs from the network's raw ones (used while NNCF scores a network without its NMS)."""
        with torch.inference_mode():
            (det,) = models.decode_raw(model, *(torch.from_numpy(np.asarray(r)) for r in raw), img_size)
        return _as_outputs(det)

    def model_info(self) -> dict[str, str]:
        return {
            "model_type": "SSD",  # Model API's detection wrapper that reads boxes [1, N, 5] + labels [1, N]
            "confidence_threshold": str(SHOW_THRESHOLD),
            "iou_threshold": str(models.NMS_IOU),
            "output_format": "boxes [1,N,5] x1 y1 x2 y2 score in input pixels; labels [1,N] 0-based; NMS included",
        }

    # --- training
    def train_loss(self, model, inputs, targets):
        """torchvision's own detector losses (classification + box regression), with background as class 0."""
        shifted = [{"boxes": t["boxes"], "labels": t["labels"] + 1} for t in targets]
        return sum(model(list(inputs), shifted).values())

    def network_loss(self, model, network, inputs, targets):
        """torchvision's detector losses from the network's per-anchor logits and box deltas."""
        shifted = [{"boxes": t["boxes"], "labels": t["labels"] + 1} for t in targets]
        return models.network_loss(model, network, inputs, shifted)

    def forward(self, model, inputs):
        """torchvision's decoding and NMS (its detectors compute losses only in train mode: no val loss)."""
        return models.detect(model, inputs)

    def outputs(self, model, raw: list[dict]) -> list[Outputs]:
        return [_as_outputs(det) for det in raw]

    def make_metrics(self, labels):
        return DetectionMetrics(labels)

    # --- inference
    def postprocess(self, outputs, image_hw, input_hw) -> Prediction:
        boxes = np.asarray(outputs[0], dtype=np.float32).reshape(-1, 5)
        labels = np.asarray(outputs[1]).reshape(-1).astype(np.int64)
        scale = np.array([image_hw[1] / input_hw[1], image_hw[0] / input_hw[0]] * 2, dtype=np.float32)
        order = np.argsort(-boxes[:, 4], kind="stable")
        boxes, labels = boxes[order], labels[order]
        top = float(boxes[0, 4]) if len(boxes) else 0.0
        return Prediction(
            task=self.name, boxes=boxes[:, :4] * scale, box_scores=boxes[:, 4], box_labels=labels, score=top
        )

    def agreement(self, a: Prediction, b: Prediction) -> float:
        """Share of the confident boxes of either prediction the other one also finds (1.0 if neither has any)."""
        ab, na = match(a, b)
        ba, nb = match(b, a)
        return 1.0 if na + nb == 0 else (ab + ba) / (na + nb)

    def evidence(self, masked: Prediction, reference: Prediction, labels: list[str]) -> float:
        """D-RISE's similarity for the reference's top box: the best IoU x score of a same-class box found on the
        masked image (0 when the reference has no box)."""
        if len(reference.boxes) == 0 or len(masked.boxes) == 0:
            return 0.0
        top = int(np.argmax(reference.box_scores))
        same = masked.box_labels == reference.box_labels[top]
        if not same.any():
            return 0.0
        ious = box_iou(torch.as_tensor(reference.boxes[top : top + 1]), torch.as_tensor(masked.boxes[same])).numpy()[0]
        return float((ious * masked.box_scores[same]).max())

    def explained(self, reference: Prediction, labels: list[str]) -> str:
        if len(reference.boxes) == 0:
            return "no box found on the whole image: nothing to explain"
        top = int(np.argmax(reference.box_scores))
        name = label_name(labels, int(reference.box_labels[top]))
        return f"evidence for the top box ('{name}', {reference.box_scores[top]:.0%})"

    # --- view
    def draw(self, image, prediction, labels) -> Image.Image:
        """Boxes with class name and score for detections scoring at least SHOW_THRESHOLD."""
        canvas = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
        canvas, scale = enlarged(canvas, 384, Image.Resampling.BILINEAR)
        shown = prediction.above(SHOW_THRESHOLD)
        text_font = font(canvas.height, 28)
        d = ImageDraw.Draw(canvas)
        rows = sorted(zip(shown.boxes, shown.box_scores, shown.box_labels, strict=True), key=lambda r: r[1])
        for box, score, label in rows:
            x1, y1, x2, y2 = (float(v) * scale for v in box)
            rgb = colour(int(label) + 1)
            d.rectangle([x1, y1, x2, y2], outline=rgb, width=max(2, canvas.height // 160))
            text = f"{label_name(labels, label)} {score:.0%}"
            *_, right, bottom = d.textbbox((x1 + 3, y1 + 1), text, font=text_font)
            top = max(y1 - (bottom - y1) - 2, 0)
            d.rectangle([x1, top, right + 3, top + (bottom - y1) + 2], fill=rgb)
            d.text((x1 + 3, top + 1), text, fill=(0, 0, 0), font=text_font)
        return canvas

    def ground_truth(self, target: dict) -> Prediction:
        boxes = np.asarray(target["boxes"], np.float32).reshape(-1, 4)
        return Prediction(
            task=self.name,
            boxes=boxes,
            box_scores=np.ones(len(boxes), np.float32),
            box_labels=np.asarray(target["labels"]),
        )

    def caption(self, prediction, labels) -> str:
        names = [label_name(labels, int(c)) for c in prediction.above(SHOW_THRESHOLD).box_labels]
        return ", ".join(f"{n}×{names.count(n)}" for n in sorted(set(names))) or "no objects"

    def describe(self, prediction, labels) -> dict:
        shown = prediction.above(SHOW_THRESHOLD)
        return {
            "threshold": SHOW_THRESHOLD,
            "detections": [
                {
                    "label": int(c),
                    "label_name": label_name(labels, int(c)),
                    "score": round(float(s), 4),
                    "box": [round(float(v), 1) for v in b],
                }
                for b, s, c in zip(shown.boxes, shown.box_scores, shown.box_labels, strict=True)
            ],
        }

    def describe_text(self, description: dict) -> str:
        found = ", ".join(f"{d['label_name']} {d['score']:.2f}" for d in description["detections"])
        if not found:
            return f"no {self.count_unit}"
        return f"{len(description['detections'])} {self.count_unit[:-1]}(s) >= {description['threshold']}: {found}"
