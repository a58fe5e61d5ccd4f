"""Image classification: how targets are read, scored, post-processed, drawn and described to Model API."""

from __future__ import annotations

from collections.abc import Iterable

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from engine.inference.prediction import Prediction

MODEL_TYPE = "Classification"


def extract_target(item: dm.DatasetItem, labels: list[str]) -> tuple[int | None, tuple[str, str] | None]:
    """The item's single class index, or a (kind, message) problem."""
    found = [ann.label for ann in item.annotations if ann.type == dm.AnnotationType.label]
    if not found:
        return None, ("missing label", "image has no class label")
    if len(set(found)) > 1:
        names = ", ".join(labels[i] for i in sorted(set(found)) if i < len(labels))
        return None, ("several labels", f"image has several labels ({names}); multi-label is not supported")
    return found[0], None


def classes_of(target: int) -> list[int]:
    return [int(target)]


def target_stats(targets: Iterable[int], labels: list[str]) -> dict:
    return {}


def caption(target: int, labels: list[str]) -> str:
    return labels[target] if 0 <= target < len(labels) else str(target)


def _loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(logits, targets, label_smoothing=0.1)


def _per_image(logits: torch.Tensor) -> list[list[np.ndarray]]:
    logits = logits.numpy()
    return [[logits[i : i + 1]] for i in range(len(logits))]


def train_loss(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return _loss(model(inputs), targets)


def evaluate_batch(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor):
    """One forward pass: the per-image outputs and the validation loss."""
    logits = model(inputs)
    return _per_image(logits), _loss(logits, targets)


def export_module(model: torch.nn.Module, img_size: int) -> torch.nn.Module:
    return model


def torch_outputs(model: torch.nn.Module, batch: torch.Tensor) -> list[list[np.ndarray]]:
    return _per_image(model(batch))


def postprocess(outputs: list[np.ndarray], image_hw: tuple[int, int], input_hw: tuple[int, int]) -> Prediction:
    logits = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
    exp = np.exp(logits - logits.max())
    probs = exp / exp.sum()
    label = int(probs.argmax())
    return Prediction(task="classification", label=label, score=float(probs[label]), scores=probs)


class ClassificationMetrics:
    """top-1, top-5 (when there are more than 5 classes), per-class accuracy and confusion matrix."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        n = len(labels)
        self.top1 = MulticlassAccuracy(num_classes=n, top_k=1, average="micro")
        self.top5 = MulticlassAccuracy(num_classes=n, top_k=5, average="micro") if n > 5 else None
        self.per_class = MulticlassAccuracy(num_classes=n, average="none")
        self.confusion = MulticlassConfusionMatrix(num_classes=n)

    def update(self, scores: torch.Tensor, targets: torch.Tensor) -> None:
        scores, targets = torch.as_tensor(scores).float(), torch.as_tensor(targets).long()
        for metric in self._metrics():
            metric.update(scores, targets)

    def update_predictions(self, predictions: list[Prediction], targets: list[int]) -> None:
        self.update(
            torch.from_numpy(np.stack([p.scores for p in predictions])), torch.tensor([int(t) for t in targets])
        )

    def compute(self) -> dict:
        out = {"top1": float(self.top1.compute())}
        if self.top5 is not None:
            out["top5"] = float(self.top5.compute())
        out["per_class"] = dict(zip(self.labels, (float(v) for v in self.per_class.compute()), strict=True))
        out["confusion"] = self.confusion.compute().tolist()
        return out

    def _metrics(self) -> list:
        return [m for m in (self.top1, self.top5, self.per_class, self.confusion) if m is not None]


def agreement(a: Prediction, b: Prediction) -> float:
    """1.0 when both predictions name the same class."""
    return float(a.label == b.label)


def draw(image: np.ndarray, prediction: Prediction, labels: list[str]) -> Image.Image:
    """The image with a banner naming the predicted class and its score."""
    canvas = Image.fromarray(image).convert("RGB")
    if max(canvas.size) < 256:  # small images: enlarge so the label stays readable
        scale = 256 / max(canvas.size)
        canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)), Image.Resampling.NEAREST)
    name = labels[prediction.label] if 0 <= prediction.label < len(labels) else str(prediction.label)
    text = f"{name} {prediction.score:.0%}"
    font = ImageFont.load_default(size=max(12, canvas.height // 14))
    d = ImageDraw.Draw(canvas)
    *_, right, bottom = d.textbbox((6, 4), text, font=font)
    d.rectangle([0, 0, right + 6, bottom + 6], fill=(0, 104, 181))
    d.text((6, 4), text, fill=(255, 255, 255), font=font)
    return canvas


def summarize(prediction: Prediction, labels: list[str]) -> dict:
    return {
        "label": prediction.label,
        "label_name": caption(prediction.label, labels),
        "score": round(prediction.score, 6),
    }


def brief(prediction: Prediction, labels: list[str]) -> str:
    return caption(prediction.label, labels)


def ground_truth(target: int) -> Prediction:
    return Prediction(task="classification", label=int(target), score=1.0)


def model_info(labels: list[str]) -> dict[str, str]:
    return {"model_type": MODEL_TYPE, "multilabel": "False", "hierarchical": "False", "topk": "1"}
