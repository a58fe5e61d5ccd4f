"""Image classification: one class per image, top-1/top-5, a class banner."""

from __future__ import annotations

from types import MappingProxyType

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from engine.choices import AUGMENT, BALANCE
from engine.drawing import enlarged, font
from engine.inference.prediction import Prediction
from engine.tasks.base import Outputs, SampleRecipe, Task, label_name, per_image
from engine.tasks.classification import FORMATS, METRIC_NAME, PRIMARY_METRIC, models
from engine.tasks.classification.data import ClassificationDataset


def per_class_scores(confusion: list[list[int]], labels: list[str]) -> dict:
    """From a confusion matrix (rows: true class, columns: predicted): each class's precision and recall, the
    balanced accuracy (mean recall: every class counts alike, however few its images) and the macro F1. A class
    with no images has no recall and is left out of the means; one never predicted has precision 0."""
    matrix = np.asarray(confusion, dtype=np.float64)
    hits, truths, calls = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    present = truths > 0
    recall = np.divide(hits, truths, out=np.zeros_like(hits), where=present)
    precision = np.divide(hits, calls, out=np.zeros_like(hits), where=calls > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return {
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_precision": {n: float(v) for n, v, ok in zip(labels, precision, present, strict=True) if ok},
        "per_class_recall": {n: float(v) for n, v, ok in zip(labels, recall, present, strict=True) if ok},
    }


class ClassificationMetrics:
    """top-1, top-5 (when there are more than 5 classes), per-class accuracy and confusion matrix."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        n, local = len(labels), {"sync_on_compute": False}  # one process scores (rank 0 of a distributed fit)
        self.top1 = MulticlassAccuracy(num_classes=n, top_k=1, average="micro", **local)
        self.top5 = MulticlassAccuracy(num_classes=n, top_k=5, average="micro", **local) if n > 5 else None
        self.per_class = MulticlassAccuracy(num_classes=n, average="none", **local)
        self.confusion = MulticlassConfusionMatrix(num_classes=n, **local)

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
        return out | per_class_scores(out["confusion"], self.labels)

    def _metrics(self) -> list:
        return [m for m in (self.top1, self.top5, self.per_class, self.confusion) if m is not None]


CLASS_RECALL_DROP = 0.05  # the most any one class's recall may drop (5 pp) for a variant to keep accuracy


class Classification(Task):
    name = "classification"
    metric_name = METRIC_NAME
    primary_metric = PRIMARY_METRIC
    side_metrics = MappingProxyType({"balanced_accuracy": "balanced accuracy", "macro_f1": "macro F1"})
    per_class_columns = MappingProxyType({"per_class_recall": "recall", "per_class_precision": "precision"})
    deploy_result = "print(result.top_labels[0])\n"
    ddp_unused_parameters = False
    deploy_openvino_result = (
        "logits = outputs[0][0]\n"
        "probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()\n"
        'print(LABELS[int(logits.argmax())], f"{probabilities.max():.1%}")\n'
    )

    annotations = (dm.AnnotationType.label,)
    formats = FORMATS
    sample = SampleRecipe(
        "engine.tasks.classification.sample",
        tiny={"per_class": (("train", 60), ("val", 10), ("test", 10))},
        project="MobileNetV3-Small, ~2.5 min",
        # ResNet-18 at 64 px on an EPYC with AVX-512 VNNI + BF16: INT8 2.4x its bf16 IR, 98 % test top-1, the
        # whole project in 2 min 26 s
        int8_training=MappingProxyType({"model": "resnet18", "epochs": 5}),
        int8_project="ResNet-18, INT8 pays off on this CPU, ~2.5 min",
    )

    archs = models.ARCHS
    default_arch = "mobilenet_v3_small"
    smallest_size = 32  # every classifier runs at one stride-32 cell (the search goes below the sample's 64 px)
    train_defaults = MappingProxyType(
        {"epochs": 10, "batch_size": 32, "img_size": 64, "lr": 2e-3, "augment": "basic", "balance": "auto"}
    )
    output_names = ("logits",)

    # --- data
    def extract_target(self, item, labels):
        found = [ann.label for ann in item.annotations if ann.type == dm.AnnotationType.label]
        if not found:
            return None, ("missing label", "image has no class label")
        if len(set(found)) > 1:
            names = ", ".join(labels[i] for i in sorted(set(found)) if i < len(labels))
            return None, ("several labels", f"image has several labels ({names}); multi-label is not supported")
        return found[0], None

    def classes_of(self, target: int) -> list[int]:
        return [int(target)]

    augments = tuple(AUGMENT)
    balances = tuple(BALANCE)

    def make_dataset(self, samples, img_size, train, augment="basic"):
        return ClassificationDataset(samples, img_size, train, augment)

    # --- model
    def build_model(self, arch, num_classes, pretrained):
        return models.build_model(arch, num_classes, pretrained)

    def output_layers(self, model):
        """The classifier's last Linear layer (one output per class)."""
        return [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1:]

    def model_info(self) -> dict[str, str]:
        return {"model_type": "Classification", "multilabel": "False", "hierarchical": "False", "topk": "1"}

    def accuracy_kept(self, variant: dict, original: dict) -> tuple[bool, str]:
        """Top-1 within ``max_drop`` is not enough on imbalanced data: the balanced accuracy may drop at most
        twice that, and no class's recall more than ``CLASS_RECALL_DROP`` (a variant that loses the minority
        class does not keep accuracy, however little top-1 moves)."""
        kept, why = super().accuracy_kept(variant, original)
        if not kept:
            return kept, why
        ours, theirs = variant.get("metrics", {}), original.get("metrics", {})
        if "balanced_accuracy" in ours and "balanced_accuracy" in theirs:
            drop = theirs["balanced_accuracy"] - ours["balanced_accuracy"]
            if drop > 2 * self.max_drop + 1e-9:
                return False, f"balanced accuracy -{100 * drop:.1f} pp"
        recalls, before = ours.get("per_class_recall", {}), theirs.get("per_class_recall", {})
        losses = {c: before[c] - recalls[c] for c in recalls if c in before}
        worst = max(losses, key=losses.get, default=None)
        if worst is not None and losses[worst] > CLASS_RECALL_DROP + 1e-9:
            return False, f"recall of class {worst!r} -{100 * losses[worst]:.1f} pp"
        return True, why

    # --- training
    @staticmethod
    def _loss(logits: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, targets, weight=weight, label_smoothing=0.1)

    def train_loss(self, model, inputs, targets, weight=None):
        """Cross-entropy with label smoothing; ``weight``: one factor per class (``--balance loss``)."""
        return self._loss(model(inputs), targets, weight)

    def network_loss(self, model, network, inputs, targets):
        return self._loss(network(inputs), targets)

    def outputs(self, model, raw: torch.Tensor) -> list[Outputs]:
        return per_image(raw.numpy())

    def val_loss(self, raw, targets):
        return self._loss(raw, targets)

    def make_metrics(self, labels):
        return ClassificationMetrics(labels)

    # --- inference
    def postprocess(self, outputs, image_hw, input_hw) -> Prediction:
        logits = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
        exp = np.exp(logits - logits.max())
        probs = exp / exp.sum()
        label = int(probs.argmax())
        return Prediction(task=self.name, label=label, score=float(probs[label]), scores=probs)

    def agreement(self, a: Prediction, b: Prediction) -> float:
        """1.0 when both predictions name the same class."""
        return float(a.label == b.label)

    def evidence(self, masked: Prediction, reference: Prediction, labels: list[str]) -> float:
        """The masked image's probability of the class predicted on the whole image."""
        return float(masked.scores[reference.label]) if len(masked.scores) > reference.label >= 0 else 0.0

    def explained(self, reference: Prediction, labels: list[str]) -> str:
        return f"evidence for '{label_name(labels, reference.label)}'"

    # --- view
    def draw(self, image, prediction, labels) -> Image.Image:
        """The image with a banner naming the predicted class and its score."""
        canvas, _ = enlarged(Image.fromarray(image).convert("RGB"), 256, Image.Resampling.NEAREST)
        text = f"{label_name(labels, prediction.label)} {prediction.score:.0%}"
        d = ImageDraw.Draw(canvas)
        *_, right, bottom = d.textbbox((6, 4), text, font=font(canvas.height, 14))
        d.rectangle([0, 0, right + 6, bottom + 6], fill=(0, 104, 181))
        d.text((6, 4), text, fill=(255, 255, 255), font=font(canvas.height, 14))
        return canvas

    def ground_truth(self, target: int) -> Prediction:
        return Prediction(task=self.name, label=int(target), score=1.0)

    def caption(self, prediction, labels) -> str:
        return label_name(labels, prediction.label)

    def describe(self, prediction, labels) -> dict:
        return {
            "label": prediction.label,
            "label_name": label_name(labels, prediction.label),
            "score": round(prediction.score, 6),
        }

    def describe_text(self, description: dict) -> str:
        return f"{description['label_name']} {description['score']:.3f}"
