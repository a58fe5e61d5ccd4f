"""Instance segmentation: detection's boxes plus one mask per instance, read from Datumaro (COCO polygons or RLE,
VOC SegmentationObject, Cityscapes instances), scored by mask mAP, drawn as coloured instances."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

import datumaro as dm
import numpy as np
import torch
from PIL import Image
from pycocotools import mask as coco_mask

from engine.drawing import colour
from engine.inference.prediction import Prediction
from engine.tasks.base import Outputs, SampleRecipe
from engine.tasks.detection.metrics import SHOW_THRESHOLD
from engine.tasks.detection.task import Detection
from engine.tasks.instance_segmentation import FORMATS, METRIC_NAME, PRIMARY_METRIC, models
from engine.tasks.instance_segmentation.data import InstanceDataset, encode
from engine.tasks.instance_segmentation.metrics import InstanceMetrics, mask_agreement, target_masks
from engine.tasks.instance_segmentation.paste import paste_masks

AREA_BUCKETS = ("small (<32²)", "medium", "large (>96²)")  # COCO's object sizes, by mask area


def _instance_masks(item: dm.DatasetItem, hw: tuple[int, int], labels: list[str]) -> list[tuple[int, np.ndarray]]:
    """Every labelled mask or polygon of the item as ``(label, (H, W) bool)``."""
    out = []
    for ann in item.annotations:
        if ann.label is None or not 0 <= ann.label < len(labels):
            continue
        if ann.type == dm.AnnotationType.mask:
            mask = np.asarray(ann.image, dtype=bool)
        elif ann.type == dm.AnnotationType.polygon:
            rle = coco_mask.frPyObjects([list(map(float, ann.points))], *hw)
            mask = coco_mask.decode(coco_mask.merge(rle)).astype(bool)
        else:
            continue
        out.append((int(ann.label), mask))
    return out


class InstanceSegmentation(Detection):
    name = "instance_segmentation"
    metric_name = METRIC_NAME
    primary_metric = PRIMARY_METRIC
    side_metrics = MappingProxyType({"map": "mask mAP@0.5:0.95", "box_map_50": "box mAP@0.5"})
    per_class_columns = MappingProxyType({"per_class_ap50": "mask AP@0.5", "per_class_ap": "mask AP@0.5:0.95"})
    count_unit = "instances"
    deploy_result = (
        "for label, score, box, mask in zip(result.label_names, result.scores, result.bboxes, result.masks):\n"
        "    print(label, score, box, int(mask.sum()), 'mask pixels')  # box: x1 y1 x2 y2 in image pixels\n"
        'print(f"{len(result.bboxes)} instance(s) above the model\'s confidence_threshold")\n'
    )
    deploy_openvino_result = (
        "boxes, labels, masks = outputs[0], outputs[1], outputs[2]  # (N, 5) in input pixels; (N,); (N, 28, 28)\n"
        "scale = np.array([image.shape[1] / w, image.shape[0] / h] * 2)\n"
        "for (*box, score), label, mask in zip(boxes, labels, masks):\n"
        "    if score >= 0.3:  # mask: the instance inside its box, probabilities 0-1\n"
        '        print(LABELS[int(label)], f"{score:.0%}", (np.array(box) * scale).round(1), mask.shape)\n'
    )

    annotations = (dm.AnnotationType.mask, dm.AnnotationType.polygon, dm.AnnotationType.bbox)
    formats = FORMATS
    sample = SampleRecipe(
        "engine.tasks.instance_segmentation.sample",
        tiny={"splits": (("train", 32), ("val", 8), ("test", 8))},
        project="Mask R-CNN, ResNet-18 FPN",
    )

    archs = models.ARCHS
    default_arch = "maskrcnn_resnet18_fpn"
    train_defaults = models.TRAIN_DEFAULTS
    output_names = ("boxes", "labels", "masks")
    network_output_names = ()
    size_bounds = (192, 512)
    smallest_size = 64
    realistic_size = 320
    unsupported_variants = MappingProxyType(
        {
            "int8-qat": "NNCF's PyTorch quantizer cannot trace Mask R-CNN's proposal and RoI stages",
            "pruned": "channel pruning does not follow Mask R-CNN's RoI heads",
            "pruned-int8": "channel pruning does not follow Mask R-CNN's RoI heads",
        }
    )

    # --- data
    def extract_target(self, item, labels):
        """Masks (as RLE), their boxes and 0-based labels; an image without instances is a negative."""
        size = getattr(item.media, "size", None)  # (h, w)
        if not size:
            return None, ("unreadable image", "the image size could not be read")
        instances = _instance_masks(item, tuple(size), labels)
        kept = [(c, m) for c, m in instances if m.shape == tuple(size) and m.any()]
        rles = [encode(m) for _, m in kept]
        boxes = [coco_mask.toBbox({**r, "counts": r["counts"].encode("ascii")}) for r in rles]
        target = {
            "boxes": np.asarray([[x, y, x + w, y + h] for x, y, w, h in boxes], np.float32).reshape(-1, 4),
            "labels": np.asarray([c for c, _ in kept], np.int64),
            "masks": rles,
            "hw": [int(size[0]), int(size[1])],
        }
        dropped = len(instances) - len(kept)
        boxes_only = sum(1 for a in item.annotations if a.type == dm.AnnotationType.bbox and a.group == 0)
        if dropped:
            return target, ("bad mask", f"{dropped} mask(s) empty or not of the image's size dropped")
        if boxes_only and not kept:
            return target, ("no mask", f"{boxes_only} box(es) without a mask: the image is kept as a negative")
        return target, None

    def statistics(self, targets: Iterable[dict], labels: list[str]) -> dict:
        """Detection's box statistics, and instances by mask area (COCO small/medium/large)."""
        targets = list(targets)
        stats = super().statistics(targets, labels)
        areas = dict.fromkeys(AREA_BUCKETS, 0)
        for target in targets:
            for rle in target["masks"]:
                area = float(coco_mask.area({**rle, "counts": rle["counts"].encode("ascii")}))
                areas[AREA_BUCKETS[0] if area < 32**2 else AREA_BUCKETS[2] if area > 96**2 else AREA_BUCKETS[1]] += 1
        return {**stats, "mask_area_buckets": areas}

    def statistics_charts(self, info: dict) -> list[dict]:
        rows = [{"area": k, "instances": v} for k, v in info.get("mask_area_buckets", {}).items()]
        charts = super().statistics_charts(info)
        charts[0] = {**charts[0], "title": "Instances per image", "x": "instances"}
        charts[0]["rows"] = [{"instances": r["boxes"], "images": r["images"]} for r in charts[0]["rows"]]
        areas = {"kind": "bars", "title": "Instances by mask area (px)", "x": "area", "y": "instances", "rows": rows}
        return [*charts, areas]

    def dataset_notes(self, info: dict) -> list[str]:
        per_image = info.get("boxes_per_image", {})
        return [
            "(per-class counts are instances; total is images)",
            f"instances per image: {per_image.get('min')}-{per_image.get('max')} (median {per_image.get('median')})",
            "mask areas: " + ", ".join(f"{k} {v}" for k, v in info.get("mask_area_buckets", {}).items()),
        ]

    def make_dataset(self, samples, img_size, train, augment="basic"):
        return InstanceDataset(samples, img_size, train)

    # --- model
    def build_model(self, arch, num_classes, pretrained):
        return models.build_model(arch, num_classes, pretrained)

    def new_layers(self, model):
        """Everything but the backbone's body: the FPN, the RPN and the RoI heads start from random init."""
        return [model.backbone.fpn, model.rpn, model.roi_heads]

    def output_layers(self, model):
        """The layers laying out classes, box deltas and per-class masks."""
        predictor = model.roi_heads.box_predictor
        return [predictor.cls_score, predictor.bbox_pred, model.roi_heads.mask_predictor.mask_fcn_logits]

    def export_module(self, model):
        return models.InstanceNetwork(model).eval()

    def finish_ir(self, network, model, img_size):
        return network  # NMS and RoI stages are inside the converted graph

    def decode_raw(self, model, raw, img_size):
        return raw

    def model_info(self) -> dict[str, str]:
        return {
            "model_type": "MaskRCNN",  # Model API's wrapper reading boxes [N, 5], labels [N], masks [N, 28, 28]
            "confidence_threshold": str(SHOW_THRESHOLD),
            "iou_threshold": str(models.NMS_IOU),
            "output_format": "boxes [N,5] x1 y1 x2 y2 score in input pixels; labels [N] 0-based; masks [N,28,28]",
        }

    def model_api_labels(self, labels: list[str]) -> list[str]:
        """Model API's MaskRCNN adds 1 to every label (its label 0 is background)."""
        return ["background", *labels]

    def labels_from_model_api(self, labels: list[str]) -> list[str]:
        return labels[1:]

    # --- training
    def train_loss(self, model, inputs, targets):
        """torchvision's Mask R-CNN losses (RPN, box head, mask head), background as class 0."""
        shifted = [{"boxes": t["boxes"], "labels": t["labels"] + 1, "masks": t["masks"]} for t in targets]
        return sum(model(list(inputs), shifted).values())

    def network_loss(self, model, network, inputs, targets):
        raise NotImplementedError(self.unsupported_variants["int8-qat"])

    def forward(self, model, inputs):
        return models.detect(model, inputs)

    def outputs(self, model, raw: list[dict]) -> list[Outputs]:
        return [
            [torch.cat([d["boxes"], d["scores"][:, None]], dim=1).numpy(), d["labels"].numpy(), d["masks"].numpy()]
            for d in raw
        ]

    def make_metrics(self, labels):
        return InstanceMetrics(labels)

    # --- inference
    def postprocess(self, outputs, image_hw, input_hw) -> Prediction:
        """Boxes to the image's pixels, each 28x28 mask pasted into its box at the image's size (as Model API does)."""
        boxes = np.asarray(outputs[0], dtype=np.float32).reshape(-1, 5)
        labels = np.asarray(outputs[1]).reshape(-1).astype(np.int64)
        masks = np.asarray(outputs[2], dtype=np.float32).reshape(len(boxes), *np.shape(outputs[2])[-2:])
        scale = np.array([image_hw[1] / input_hw[1], image_hw[0] / input_hw[0]] * 2, dtype=np.float32)
        order = np.argsort(-boxes[:, 4], kind="stable")
        boxes, labels, masks = boxes[order], labels[order], masks[order]
        scaled = boxes[:, :4] * scale
        return Prediction(
            task=self.name,
            boxes=scaled,
            box_scores=boxes[:, 4],
            box_labels=labels,
            instance_masks=paste_masks(scaled, masks, tuple(image_hw)),
            score=float(boxes[0, 4]) if len(boxes) else 0.0,
        )

    def agreement(self, a: Prediction, b: Prediction) -> float:
        """Share of the confident instances of either prediction the other finds with the same class and a mask
        IoU of at least 0.5 (1.0 if neither has any)."""
        return mask_agreement(a.above(SHOW_THRESHOLD), b.above(SHOW_THRESHOLD))

    # --- view
    def draw(self, image, prediction, labels) -> Image.Image:
        """Each instance's mask in its own colour under detection's box, class name and score."""
        rgb = np.asarray(image, dtype=np.uint8).copy()
        shown = prediction.above(SHOW_THRESHOLD)
        for index, (mask, label) in enumerate(zip(shown.instance_masks, shown.box_labels, strict=False)):
            if mask.shape != rgb.shape[:2]:
                continue
            tint = np.array(colour(int(label) + 1 + 7 * index), dtype=np.float32)
            rgb[mask] = (0.45 * rgb[mask] + 0.55 * tint).astype(np.uint8)
        return super().draw(rgb, prediction, labels)

    def ground_truth(self, target: dict) -> Prediction:
        truth = super().ground_truth(target)
        truth.instance_masks = target_masks(target)
        return truth

    def describe(self, prediction, labels) -> dict:
        described = super().describe(prediction, labels)
        shown = prediction.above(SHOW_THRESHOLD)
        for row, mask in zip(described["detections"], shown.instance_masks, strict=False):
            row["mask_pixels"] = int(mask.sum())
        return described
