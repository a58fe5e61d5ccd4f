"""What the pipeline needs to know about a vision task, as one class per task.

A *target* is what a task learns per image: a class index (classification), a dict of ``boxes``
(x1 y1 x2 y2 pixels) and ``labels`` (detection), or a class-index mask (segmentation). *Outputs* are the
IR's outputs for one image, in order (``output_names``); PyTorch computes the same ones
(:meth:`Task.torch_outputs`), so every backend goes through the same :meth:`Task.postprocess`.

Adding a task is writing one subclass and listing it in ``engine/tasks/__init__.py``; nothing else in the
engine, the CLI or the pages names a task.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.inference.prediction import Prediction

Outputs = list[np.ndarray]  # one image's IR outputs, in ``output_names`` order


def per_image(batch: np.ndarray) -> list[Outputs]:
    """A batch of single-output results -> each image's outputs (batch axis kept, as the IR returns them)."""
    return [[batch[i : i + 1]] for i in range(len(batch))]


def label_name(labels: list[str], index: int) -> str:
    """The class name of ``index`` (the index itself when the labels do not cover it)."""
    return labels[index] if 0 <= index < len(labels) else str(index)


SIZE_STEP = 32  # input sizes are multiples of the networks' largest stride


def image_based_size(info: Mapping[str, Any], bounds: tuple[int, int]) -> tuple[int, str]:
    """``(size, why)`` from the median image size recorded at import (``image_size``), within ``bounds``."""
    lo, hi = bounds
    spread = info.get("image_size") or {}
    side = min(
        float((spread.get("width") or {}).get("median") or 0), float((spread.get("height") or {}).get("median") or 0)
    )
    if side <= 0:
        return lo, f"no image sizes recorded: the smallest default, {lo} px"
    size = min(max(int(side) // SIZE_STEP * SIZE_STEP, lo), hi)
    where = "the upper bound" if size == hi and side > hi else "the lower bound" if size == lo and side < lo else ""
    why = f"median image {side:.0f} px on its shorter side, rounded down to a multiple of {SIZE_STEP}"
    return size, f"{why}; {where} of {lo}-{hi} px" if where else f"{why} (within {lo}-{hi} px)"


@dataclass(frozen=True)
class SampleRecipe:
    """The task's built-in sample dataset: its generator module and the tiny version's overrides."""

    module: str  # a module with ``generate(out, SampleConfig)`` and ``SampleConfig``
    tiny: Mapping[str, Any] = field(default_factory=dict)  # SampleConfig overrides of the 1-minute demo
    project: str = ""  # what the sample project trains and how long it takes on 2 cores (shown on Home)
    # the sample project's training on a CPU where INT8 pays off for an INT8-friendly architecture (the zoo table
    # of the CPU's tier, or the CPU's own ``measure-int8``), and its Home text; empty: always the default
    int8_training: Mapping[str, Any] = field(default_factory=dict)
    int8_project: str = ""


class Task(ABC):
    """One vision task. Class attributes describe it; methods are grouped by role below."""

    # --- identity and presentation
    name: ClassVar[str]
    metric_name: ClassVar[str]  # how the primary metric is shown ("top-1", "mAP@0.5", "mIoU")
    primary_metric: ClassVar[str]  # the metric key that picks the best checkpoint and ranks variants
    max_drop: ClassVar[float] = 0.005  # the largest metric drop (absolute, 0-1) a variant may cost and still count
    # metric key -> column name of the other metrics every variant table shows beside the primary one
    side_metrics: ClassVar[Mapping[str, str]] = {}
    # per-class score key (class -> value) -> column name of the Train page's per-class table, best epoch on val
    per_class_columns: ClassVar[Mapping[str, str]] = {}
    count_unit: ClassVar[str] = "images"  # what a dataset's per-class counts count
    deploy_result: ClassVar[str] = "print(result)\n"  # how the Deploy snippet reads Model API's result
    # how the plain-OpenVINO Deploy snippet reads ``outputs`` (the compiled model's result, in output order)
    # with ``LABELS``, ``image`` (RGB) and the input's ``h, w`` in scope
    # DistributedDataParallel looks for parameters a forward pass left unused (detectors' and segmenters'
    # heads can skip some): a small cost per step, so tasks that always use every parameter turn it off
    ddp_unused_parameters: ClassVar[bool] = True
    deploy_openvino_result: ClassVar[str] = "print([o.shape for o in outputs.values()])\n"

    # --- data: what a Datumaro item means for this task
    annotations: ClassVar[tuple[Any, ...]]  # datumaro AnnotationTypes that make a dataset this task's
    formats: ClassVar[tuple[str, ...]]  # Datumaro formats read for this task, preferred first
    min_classes: ClassVar[int] = 2
    sample: ClassVar[SampleRecipe]

    @abstractmethod
    def extract_target(self, item: Any, labels: list[str]) -> tuple[Any | None, tuple[str, str] | None]:
        """The item's target, or ``(None, (kind, message))`` when it cannot be used; ``(target, (kind, message))``
        keeps the item and reports what was left out of it (e.g. boxes outside the image)."""

    @abstractmethod
    def classes_of(self, target: Any) -> list[int]:
        """The class indices a target contains (one per object for detection)."""

    def statistics(self, targets: Iterable[Any], labels: list[str]) -> dict:
        """Task-specific dataset statistics stored in the dataset's info (default: none)."""
        return {}

    def statistics_charts(self, info: dict) -> list[dict]:
        """Charts of :meth:`statistics` for the Data page: ``{"kind", "title", "x", "y", "rows"}`` each."""
        return []

    def dataset_notes(self, info: dict) -> list[str]:
        """Lines the CLI prints under a dataset's class counts (default: none)."""
        return []

    def sample_target(self, item: Any, labels: list[str], folder: Path) -> Any:
        """What a stored split hands out as the target (segmentation: a lazy mask reference)."""
        return self.extract_target(item, labels)[0]

    # variant name -> why it cannot be built for this task (optimize refuses it in one line; search leaves it out)
    unsupported_variants: ClassVar[Mapping[str, str]] = {}

    augments: ClassVar[tuple[str, ...]] = ("basic",)  # training augmentation policies (engine.choices.AUGMENT)
    balances: ClassVar[tuple[str, ...]] = ("none",)  # what training does about class sizes (engine.choices.BALANCE)

    @abstractmethod
    def make_dataset(self, samples: list, img_size: int, train: bool, augment: str = "basic") -> Any:
        """A torch Dataset of ``(input tensor, target)`` over ``(path, target)`` samples, training ones
        augmented by the policy ``augment`` (one of :attr:`augments`)."""

    collate_fn: ClassVar[Callable | None] = None  # DataLoader collate_fn (None = stack)

    def write_sample(self, out: str | Path, *, seed: int = 0, tiny: bool = False) -> dict[str, int]:
        """Write the built-in sample dataset (deterministic per seed); images per split."""
        module = importlib.import_module(self.sample.module)
        config = module.SampleConfig(seed=seed, **(self.sample.tiny if tiny else {}))
        return module.generate(Path(out), config)

    # --- model
    archs: ClassVar[Mapping[str, Any]]  # architecture name -> description with a ``summary``
    default_arch: ClassVar[str]
    train_defaults: ClassVar[Mapping[str, Any]]  # epochs, batch_size, img_size, lr reaching a good sample model
    arch_train_defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}  # arch -> where it differs (lr...)
    output_names: ClassVar[tuple[str, ...]]  # the IR's outputs, in order
    network_output_names: ClassVar[tuple[str, ...]] = ()  # export_module's outputs when they differ (ONNX names)
    size_bounds: ClassVar[tuple[int, int]] = (64, 224)  # the range a default input size is chosen in (px)
    smallest_size: ClassVar[int] = 64  # the smallest input (px) every architecture runs at (mechanics checks)
    realistic_size: ClassVar[int] = 224  # a typical deployed input (px): where INT8's speed-up is measured

    def input_size(self, info: Mapping[str, Any]) -> tuple[int, str]:
        """The default input size for a dataset (its ``data info``) and why, in words: the median image's
        shorter side, rounded down to a multiple of 32, within :attr:`size_bounds`."""
        return image_based_size(info, self.size_bounds)

    @abstractmethod
    def build_model(self, arch: str, num_classes: int, pretrained: bool) -> tuple[Any, Any]:
        """``(nn.Module, WeightsStatus)``: ImageNet weights when cached and asked for, else random init."""

    @abstractmethod
    def output_layers(self, model: Any) -> list[Any]:
        """The layers that produce the task's outputs (classes, boxes): pruning never removes their channels."""

    def accuracy_kept(self, variant: dict, original: dict) -> tuple[bool, str]:
        """Whether a variant keeps the original's accuracy, and why not: its primary metric may drop at most
        ``max_drop`` (``variant``/``original``: stored variant entries with ``drop_vs_torch_pp`` and ``metrics``)."""
        drop = variant.get("drop_vs_torch_pp")
        if drop is None:
            return False, "not scored"
        if drop / 100 > self.max_drop + 1e-9:
            return False, f"{self.metric_name} -{drop:.1f} pp"
        return True, ""

    def new_layers(self, model: Any) -> list[Any]:
        """The layers that start from random init when the rest is pretrained (fine-tuning trains them faster):
        the output layers by default."""
        return self.output_layers(model)

    def export_module(self, model: Any) -> Any:
        """The module that is converted to OpenVINO (returns a tensor or a tuple of tensors)."""
        return model

    def finish_ir(self, network: Any, model: Any, img_size: int) -> Any:
        """Append float post-processing to the (possibly quantized) converted network (default: none)."""
        return network

    def decode_raw(self, model: Any, raw: Outputs, img_size: int) -> Outputs:
        """The IR's outputs from the bare network's, as :meth:`finish_ir` computes them (default: the same)."""
        return raw

    @abstractmethod
    def model_info(self) -> dict[str, str]:
        """Model API ``rt_info['model_info']`` entries specific to the task (``model_type`` first)."""

    def model_api_labels(self, labels: list[str]) -> list[str]:
        """The label list Model API's wrapper of :meth:`model_info`'s ``model_type`` indexes (default: the
        dataset's classes; Mask R-CNN's wrapper counts background as label 0)."""
        return labels

    def labels_from_model_api(self, labels: list[str]) -> list[str]:
        """The dataset's classes from an IR's Model API label list (the inverse of :meth:`model_api_labels`)."""
        return labels

    # --- training
    @abstractmethod
    def train_loss(self, model: Any, inputs: Any, targets: Any) -> Any:
        """Scalar loss of a batch, model in train mode."""

    @abstractmethod
    def network_loss(self, model: Any, network: Any, inputs: Any, targets: Any) -> Any:
        """Scalar loss of a batch from ``network``'s outputs, where ``network`` is :meth:`export_module` of
        ``model`` (or a quantized copy of it: quantization-aware training trains what is converted)."""

    def forward(self, model: Any, inputs: Any) -> Any:
        """The network's raw output in eval mode (what :meth:`outputs` and :meth:`val_loss` read)."""
        return model(inputs)

    @abstractmethod
    def outputs(self, model: Any, raw: Any) -> list[Outputs]:
        """Per image, the IR's outputs from :meth:`forward`'s result."""

    def val_loss(self, raw: Any, targets: Any) -> Any | None:
        """Validation loss from :meth:`forward`'s result, or ``None`` when the model has none in eval mode."""
        return None

    def torch_outputs(self, model: Any, inputs: Any) -> list[Outputs]:
        """Per image, the IR's outputs computed by PyTorch."""
        return self.outputs(model, self.forward(model, inputs))

    def evaluate_batch(self, model: Any, inputs: Any, targets: Any) -> tuple[list[Outputs], Any | None]:
        """One forward pass: per-image outputs and the validation loss."""
        from engine.training.distributed import to_device  # torch is only needed once a model runs

        raw = self.forward(model, inputs)
        return self.outputs(model, to_device(raw, "cpu")), self.val_loss(raw, targets)

    @abstractmethod
    def make_metrics(self, labels: list[str]) -> Any:
        """Metrics with ``update_predictions(predictions, targets)`` and ``compute() -> dict``."""

    # --- inference
    @abstractmethod
    def postprocess(self, outputs: Outputs, image_hw: tuple[int, int], input_hw: tuple[int, int]) -> Prediction:
        """One image's outputs -> Prediction in the original image's coordinates."""

    @abstractmethod
    def agreement(self, a: Prediction, b: Prediction) -> float:
        """How far two variants' predictions agree, 0..1."""

    @abstractmethod
    def evidence(self, masked: Prediction, reference: Prediction, labels: list[str]) -> float:
        """How much of ``reference`` (the prediction on the whole image) a prediction on a partly masked copy
        still finds, 0..1: the score a saliency method (RISE) attributes to the pixels left visible."""

    def explained(self, reference: Prediction, labels: list[str]) -> str:
        """What :meth:`evidence` measures for this reference, in words (the saliency map's caption)."""
        return self.caption(reference, labels)

    # --- view
    @abstractmethod
    def draw(self, image: np.ndarray, prediction: Prediction, labels: list[str]) -> Any:
        """The image with the prediction drawn on it (PIL image)."""

    @abstractmethod
    def ground_truth(self, target: Any) -> Prediction:
        """A target as a Prediction, so annotations are drawn and described like predictions."""

    @abstractmethod
    def caption(self, prediction: Prediction, labels: list[str]) -> str:
        """One short line naming what a prediction (or ground truth) contains."""

    @abstractmethod
    def describe(self, prediction: Prediction, labels: list[str]) -> dict:
        """A JSON-able description of a prediction (the predict verb's output)."""

    @abstractmethod
    def describe_text(self, description: dict) -> str:
        """:meth:`describe`'s result as one line for the terminal."""
