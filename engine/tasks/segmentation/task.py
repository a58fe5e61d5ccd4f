"""Semantic segmentation: class masks read from Datumaro, scored (mIoU), post-processed, drawn, described."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw
from torchmetrics.classification import MulticlassConfusionMatrix

from engine.data.masks import IGNORE_INDEX, MaskRef, background_index, load_mask, mask_problem
from engine.drawing import colour, enlarged, font
from engine.inference.prediction import Prediction
from engine.inference.preprocess import resize_mask
from engine.tasks.base import Outputs, SampleRecipe, Task, label_name, per_image
from engine.tasks.segmentation import FORMATS, METRIC_NAME, PRIMARY_METRIC, models
from engine.tasks.segmentation.data import SegmentationDataset


class SegmentationMetrics:
    """mIoU (over classes present in targets or predictions), per-class IoU, pixel accuracy."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.confusion = MulticlassConfusionMatrix(  # one process scores (rank 0 of a distributed fit)
            num_classes=len(labels), ignore_index=IGNORE_INDEX, sync_on_compute=False
        )

    def update_predictions(self, predictions: list[Prediction], targets: list) -> None:
        for pred, target in zip(predictions, targets, strict=True):
            mask = torch.as_tensor(load_mask(target))  # a stored MaskRef, or a mask tensor from the training loop
            self.confusion.update(torch.as_tensor(pred.mask).long().reshape(-1), mask.long().reshape(-1))

    def compute(self) -> dict:
        cm = self.confusion.compute().double()
        tp = cm.diag()
        union = cm.sum(0) + cm.sum(1) - tp
        iou = torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))
        present = ~iou.isnan()
        return {
            "miou": float(iou[present].mean()) if present.any() else 0.0,
            "pixel_accuracy": float(tp.sum() / cm.sum().clamp(min=1)),
            "per_class_iou": {n: (None if v.isnan() else float(v)) for n, v in zip(self.labels, iou, strict=True)},
        }


class _Scores(torch.nn.Module):
    """torchvision segmenters return ``{"out": logits}``; the IR returns per-pixel class probabilities."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["out"].softmax(dim=1)


class Segmentation(Task):
    name = "segmentation"
    metric_name = METRIC_NAME
    primary_metric = PRIMARY_METRIC
    per_class_columns = MappingProxyType({"per_class_iou": "IoU"})
    deploy_result = "mask = result.resultImage  # (H, W) class index per pixel\nprint(mask.shape, mask.max())\n"
    deploy_openvino_result = (
        "mask = outputs[0][0].argmax(0)  # (h, w) class index per pixel of the input\n"
        "classes, counts = np.unique(mask, return_counts=True)\n"
        'print({LABELS[int(c)]: f"{n / mask.size:.1%}" for c, n in zip(classes, counts)})\n'
    )

    annotations = (dm.AnnotationType.mask, dm.AnnotationType.polygon)
    formats = FORMATS
    sample = SampleRecipe(
        "engine.tasks.segmentation.sample",
        tiny={"splits": (("train", 48), ("val", 8), ("test", 8))},
        project="LRASPP, ~6 min",
    )

    archs = models.ARCHS
    default_arch = "lraspp_mobilenet_v3_large"
    train_defaults = models.TRAIN_DEFAULTS
    output_names = ("scores",)
    size_bounds = (128, 512)
    realistic_size = 256

    # --- data
    def extract_target(self, item, labels):
        return mask_problem(item, labels)

    def classes_of(self, mask) -> list[int]:
        return [int(c) for c in np.unique(load_mask(mask)) if c != IGNORE_INDEX]

    def statistics(self, masks: Iterable[np.ndarray], labels: list[str]) -> dict:
        """Share of the annotated pixels each class covers, and how many images contain it."""
        pixels = np.zeros(len(labels), dtype=np.int64)
        images = np.zeros(len(labels), dtype=np.int64)
        for mask in masks:
            counts = np.bincount(mask.reshape(-1), minlength=256)[: len(labels)]
            pixels += counts
            images += counts > 0
        total = max(int(pixels.sum()), 1)
        return {
            "mask_class_area": {name: float(p / total) for name, p in zip(labels, pixels, strict=True)},
            "images_with_class": {name: int(n) for name, n in zip(labels, images, strict=True)},
        }

    def statistics_charts(self, info: dict) -> list[dict]:
        rows = [{"class": k, "share": v} for k, v in info.get("mask_class_area", {}).items()]
        return [
            {"kind": "bars", "title": "Share of annotated pixels per class", "x": "class", "y": "share", "rows": rows}
        ]

    def dataset_notes(self, info: dict) -> list[str]:
        shares = ", ".join(f"{k} {v:.1%}" for k, v in info.get("mask_class_area", {}).items())
        return ["(per-class counts are images containing the class)", f"share of annotated pixels: {shares}"]

    def sample_target(self, item, labels, folder) -> MaskRef:
        return MaskRef(str(folder), item.subset, item.id)

    def make_dataset(self, samples, img_size, train, augment="basic"):
        return SegmentationDataset(samples, img_size, train)

    # --- model
    def build_model(self, arch, num_classes, pretrained):
        return models.build_model(arch, num_classes, pretrained)

    def new_layers(self, model):
        """The segmentation head (only the backbone is pretrained)."""
        return [m for m in (model.classifier, getattr(model, "aux_classifier", None)) if m is not None]

    def output_layers(self, model):
        """The classifier convolutions with one output channel per class."""
        convs = [m for m in model.classifier.modules() if isinstance(m, torch.nn.Conv2d)]
        return [m for m in convs if m.out_channels == convs[-1].out_channels]

    def export_module(self, model):
        return _Scores(model).eval()

    def model_info(self) -> dict[str, str]:
        return {
            "model_type": "Segmentation",
            "blur_strength": "-1",
            "soft_threshold": "-inf",
            "return_soft_prediction": "True",
        }

    # --- training
    @staticmethod
    def _loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, masks, ignore_index=IGNORE_INDEX)

    def train_loss(self, model, inputs, targets):
        return self._loss(model(inputs)["out"], targets)

    def network_loss(self, model, network, inputs, targets):
        """Cross-entropy from the network's per-pixel probabilities (the IR's output is the softmax)."""
        log_probs = network(inputs).clamp_min(1e-6).log()
        return torch.nn.functional.nll_loss(log_probs, targets, ignore_index=IGNORE_INDEX)

    def forward(self, model, inputs):
        return model(inputs)["out"]

    def outputs(self, model, raw: torch.Tensor) -> list[Outputs]:
        return per_image(raw.softmax(dim=1).numpy())

    def val_loss(self, raw, targets):
        return self._loss(raw, targets)

    def make_metrics(self, labels):
        return SegmentationMetrics(labels)

    # --- inference
    def postprocess(self, outputs, image_hw, input_hw) -> Prediction:
        """Arg-max at the network's resolution, then nearest resize to the image (as Model API does)."""
        scores = np.asarray(outputs[0])[0]
        mask = resize_mask(scores.argmax(axis=0).astype(np.uint8), image_hw)
        return Prediction(task=self.name, mask=mask, score=float(scores.max(axis=0).mean()))

    def agreement(self, a: Prediction, b: Prediction) -> float:
        """Share of pixels both masks give the same class."""
        if a.mask.shape != b.mask.shape or a.mask.size == 0:
            return 0.0
        return float((a.mask == b.mask).mean())

    def evidence(self, masked: Prediction, reference: Prediction, labels: list[str]) -> float:
        """IoU, with the whole image's prediction, of the masked image's pixels of the main foreground class."""
        cls = self._main_class(reference, labels)
        if cls is None or masked.mask.shape != reference.mask.shape:
            return 0.0
        ref, got = reference.mask == cls, masked.mask == cls
        union = (ref | got).sum()
        return float((ref & got).sum() / union) if union else 0.0

    def explained(self, reference: Prediction, labels: list[str]) -> str:
        cls = self._main_class(reference, labels)
        return "no foreground predicted: nothing to explain" if cls is None else f"evidence for '{labels[cls]}' pixels"

    @staticmethod
    def _main_class(reference: Prediction, labels: list[str]) -> int | None:
        background = background_index(labels)
        classes, counts = np.unique(reference.mask, return_counts=True)
        keep = [(n, int(c)) for c, n in zip(classes, counts, strict=True) if c not in (IGNORE_INDEX, background)]
        return max(keep)[1] if keep else None

    # --- view
    def draw(self, image, prediction, labels) -> Image.Image:
        """The image with the class mask blended over it (background and ignored pixels left clear), a legend."""
        rgb = np.asarray(image, dtype=np.uint8)
        mask = prediction.mask
        present = [int(c) for c in np.unique(mask) if c != IGNORE_INDEX]
        colours = np.array([colour(i) for i in range(max([len(labels), *(c + 1 for c in present)]))], dtype=np.uint8)
        background = background_index(labels)
        painted = (mask != IGNORE_INDEX) & (mask != (-1 if background is None else background))
        blended = rgb.copy()
        blended[painted] = (0.45 * rgb[painted] + 0.55 * colours[mask[painted]]).astype(np.uint8)
        canvas, _ = enlarged(Image.fromarray(blended), 320, Image.Resampling.NEAREST)
        text_font = font(canvas.height, 22)
        d = ImageDraw.Draw(canvas)
        y = 4
        for c in present:
            name = label_name(labels, c)
            *_, right, bottom = d.textbbox((22, y), name, font=text_font)
            d.rectangle([2, y - 2, right + 4, bottom + 2], fill=(20, 20, 20))
            d.rectangle([6, y + 1, 18, bottom - 1], fill=colour(c))
            d.text((22, y), name, fill=(255, 255, 255), font=text_font)
            y = bottom + 6
        return canvas

    def ground_truth(self, target) -> Prediction:
        return Prediction(task=self.name, mask=load_mask(target).astype(np.uint8), score=1.0)

    def caption(self, prediction, labels) -> str:
        return ", ".join(label_name(labels, c) for c in self.classes_of(prediction.mask) if c < len(labels))

    def describe(self, prediction, labels) -> dict:
        ids, counts = np.unique(prediction.mask, return_counts=True)
        total = max(int(prediction.mask.size), 1)
        return {
            "class_area": {
                label_name(labels, int(i)): round(int(c) / total, 4) for i, c in zip(ids, counts, strict=True)
            }
        }

    def describe_text(self, description: dict) -> str:
        ranked = sorted(description["class_area"].items(), key=lambda kv: -kv[1])
        return ", ".join(f"{name} {share:.0%}" for name, share in ranked)
