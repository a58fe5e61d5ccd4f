"""Image classification: one class per image, top-1/top-5, a class banner."""

from __future__ import annotations

from types import MappingProxyType

import datumaro as dm
import numpy as np
import torch
from PIL import Image, ImageDraw
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

from engine.data.classification import ClassificationDataset
from engine.drawing import enlarged, font
from engine.inference.prediction import Prediction
from engine.models import classification as models
from engine.tasks.base import Outputs, SampleRecipe, Task, label_name, per_image


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
        return out

    def _metrics(self) -> list:
        return [m for m in (self.top1, self.top5, self.per_class, self.confusion) if m is not None]


class Classification(Task):
    name = "classification"
    metric_name = "top-1"
    primary_metric = "top1"
    deploy_result = "print(result.top_labels[0])\n"
    ddp_unused_parameters = False
    deploy_openvino_result = (
        "logits = outputs[0][0]\n"
        "probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()\n"
        'print(LABELS[int(logits.argmax())], f"{probabilities.max():.1%}")\n'
    )

    annotations = (dm.AnnotationType.label,)
    formats = ("imagenet_with_subset_dirs", "imagenet", "voc_classification", "datumaro", "cifar", "mnist")
    sample = SampleRecipe(
        "engine.data.sample_classification",
        tiny={"per_class": (("train", 60), ("val", 10), ("test", 10))},
        project="MobileNetV3-Small, ~2.5 min",
    )

    archs = models.ARCHS
    default_arch = "mobilenet_v3_small"
    train_defaults = MappingProxyType({"epochs": 10, "batch_size": 32, "img_size": 64, "lr": 2e-3})
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

    def make_dataset(self, samples, img_size, train):
        return ClassificationDataset(samples, img_size, train)

    # --- model
    def build_model(self, arch, num_classes, pretrained):
        return models.build_model(arch, num_classes, pretrained)

    def output_layers(self, model):
        """The classifier's last Linear layer (one output per class)."""
        return [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1:]

    def model_info(self) -> dict[str, str]:
        return {"model_type": "Classification", "multilabel": "False", "hierarchical": "False", "topk": "1"}

    # --- training
    @staticmethod
    def _loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, targets, label_smoothing=0.1)

    def train_loss(self, model, inputs, targets):
        return self._loss(model(inputs), targets)

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
