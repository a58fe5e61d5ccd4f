"""Semantic segmentation: class masks read from Datumaro, scored (mIoU), post-processed, drawn, described."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchmetrics.classification import MulticlassConfusionMatrix

from engine.inference.prediction import Prediction
from engine.inference.preprocess import resize_mask

MODEL_TYPE = "Segmentation"
IGNORE_INDEX = 255
PALETTE = np.array(
    [
        (0, 0, 0),
        (230, 25, 75),
        (60, 180, 75),
        (255, 225, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
        (210, 245, 60),
        (250, 190, 212),
        (0, 128, 128),
    ],
    dtype=np.uint8,
)


def colour(index: int) -> tuple[int, int, int]:
    if index < len(PALETTE):
        return tuple(int(v) for v in PALETTE[index])
    rng = np.random.default_rng(index)
    return tuple(int(v) for v in rng.integers(40, 256, size=3))


BACKGROUND_NAMES = ("background", "_background_", "bg")


def index_mask(item: dm.DatasetItem, labels: list[str]) -> np.ndarray | None:
    """One (H, W) class-index mask from the item's mask annotations.

    Pixels no mask covers are background when the dataset has a background class (VOC leaves it
    implicit), else IGNORE_INDEX (not scored, not learned)."""
    num_labels = len(labels)
    names = [n.lower() for n in labels]
    uncovered = next((names.index(n) for n in BACKGROUND_NAMES if n in names), IGNORE_INDEX)
    masks = sorted(
        (a for a in item.annotations if a.type == dm.AnnotationType.mask and a.label is not None),
        key=lambda a: a.z_order,
    )
    if not masks:
        return None
    out = None
    for ann in masks:
        region = np.asarray(ann.image, dtype=bool)
        if out is None:
            out = np.full(region.shape, uncovered, dtype=np.uint8)
        if region.shape != out.shape or not 0 <= ann.label < min(num_labels, IGNORE_INDEX):
            return None
        out[region] = ann.label
    return out


def extract_target(item: dm.DatasetItem, labels: list[str]) -> tuple[np.ndarray | None, tuple[str, str] | None]:
    if len(labels) >= IGNORE_INDEX:
        return None, ("too many classes", f"{len(labels)} classes; at most {IGNORE_INDEX - 1} are supported")
    mask = index_mask(item, labels)
    if mask is None:
        return None, ("missing mask", "image has no usable class mask (none, or one that does not fit the image)")
    size = getattr(item.media, "size", None)
    if size and tuple(size) != mask.shape:
        return None, ("mask size", f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {size[1]}x{size[0]}")
    return mask, None


@dataclass(frozen=True)
class MaskRef:
    """Where a stored item's mask lives; masks are rebuilt on demand instead of held for a whole split."""

    folder: str
    subset: str
    item_id: str

    @classmethod
    def of(cls, item: dm.DatasetItem, labels: list[str], folder: Path) -> MaskRef:
        return cls(str(folder), item.subset, item.id)


def load_mask(target) -> np.ndarray:
    if not isinstance(target, MaskRef):
        return np.asarray(target)
    from engine.data.stored import load_info, stored_item

    labels = load_info(Path(target.folder))["labels"]
    mask, problem = extract_target(stored_item(target.folder, target.subset, target.item_id), labels)
    if problem:
        raise ValueError(f"{target.subset}/{target.item_id}: {problem[1]}")
    return mask


def classes_of(mask: np.ndarray) -> list[int]:
    return [int(c) for c in np.unique(mask) if c != IGNORE_INDEX]


def target_stats(masks: Iterable[np.ndarray], labels: list[str]) -> dict:
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


def caption(target, labels: list[str]) -> str:
    return ", ".join(labels[c] for c in classes_of(load_mask(target)) if c < len(labels))


def _loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(logits, masks, ignore_index=IGNORE_INDEX)


def _per_image(logits: torch.Tensor) -> list[list[np.ndarray]]:
    scores = logits.softmax(dim=1).numpy()
    return [[scores[i : i + 1]] for i in range(len(scores))]


def train_loss(model: torch.nn.Module, inputs: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return _loss(model(inputs)["out"], masks)


def evaluate_batch(model: torch.nn.Module, inputs: torch.Tensor, masks: torch.Tensor):
    """One forward pass: the per-image outputs and the validation loss."""
    logits = model(inputs)["out"]
    return _per_image(logits), _loss(logits, masks)


class _Scores(torch.nn.Module):
    """torchvision segmenters return ``{"out": logits}``; the IR returns per-pixel class probabilities."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["out"].softmax(dim=1)


def export_module(model: torch.nn.Module, img_size: int) -> torch.nn.Module:
    return _Scores(model).eval()


def torch_outputs(model: torch.nn.Module, batch: torch.Tensor) -> list[list[np.ndarray]]:
    return _per_image(model(batch)["out"])


def postprocess(outputs: list[np.ndarray], image_hw: tuple[int, int], input_hw: tuple[int, int]) -> Prediction:
    """Arg-max at the network's resolution, then nearest resize to the image (as Model API does)."""
    scores = np.asarray(outputs[0])[0]
    mask = resize_mask(scores.argmax(axis=0).astype(np.uint8), image_hw)
    return Prediction(task="segmentation", mask=mask, score=float(scores.max(axis=0).mean()))


class SegmentationMetrics:
    """mIoU (over classes present in targets or predictions), per-class IoU, pixel accuracy."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.confusion = MulticlassConfusionMatrix(num_classes=len(labels), ignore_index=IGNORE_INDEX)

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


def agreement(a: Prediction, b: Prediction) -> float:
    """Share of pixels both masks give the same class."""
    if a.mask.shape != b.mask.shape or a.mask.size == 0:
        return 0.0
    return float((a.mask == b.mask).mean())


def draw(image: np.ndarray, prediction: Prediction, labels: list[str]) -> Image.Image:
    """The image with the class mask blended over it (background left clear) and a legend."""
    rgb = np.asarray(image, dtype=np.uint8)
    mask = prediction.mask
    colours = np.array([colour(i) for i in range(max(len(labels), int(mask.max(initial=0)) + 1))], dtype=np.uint8)
    names = [n.lower() for n in labels]
    background = next((names.index(n) for n in BACKGROUND_NAMES if n in names), -1)
    painted = mask != background
    blended = rgb.copy()
    blended[painted] = (0.45 * rgb[painted] + 0.55 * colours[mask[painted]]).astype(np.uint8)
    canvas = Image.fromarray(blended)
    if max(canvas.size) < 320:
        scale = 320 / max(canvas.size)
        canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)), Image.Resampling.NEAREST)
    present = [int(c) for c in np.unique(mask)]
    font = ImageFont.load_default(size=max(11, canvas.height // 22))
    d = ImageDraw.Draw(canvas)
    y = 4
    for c in present:
        name = labels[c] if c < len(labels) else str(c)
        *_, right, bottom = d.textbbox((22, y), name, font=font)
        d.rectangle([2, y - 2, right + 4, bottom + 2], fill=(20, 20, 20))
        d.rectangle([6, y + 1, 18, bottom - 1], fill=colour(c))
        d.text((22, y), name, fill=(255, 255, 255), font=font)
        y = bottom + 6
    return canvas


def summarize(prediction: Prediction, labels: list[str]) -> dict:
    ids, counts = np.unique(prediction.mask, return_counts=True)
    total = max(int(prediction.mask.size), 1)
    name = lambda i: labels[i] if i < len(labels) else str(i)  # noqa: E731
    return {"class_area": {name(int(i)): round(int(c) / total, 4) for i, c in zip(ids, counts, strict=True)}}


def brief(prediction: Prediction, labels: list[str]) -> str:
    return caption(prediction.mask, labels)


def ground_truth(target) -> Prediction:
    mask = load_mask(target)
    return Prediction(task="segmentation", mask=np.where(mask == IGNORE_INDEX, 0, mask).astype(np.uint8), score=1.0)


def model_info(labels: list[str]) -> dict[str, str]:
    return {"model_type": MODEL_TYPE, "blur_strength": "-1", "soft_threshold": "-inf", "return_soft_prediction": "True"}
