"""The task registry, as data: one entry per task names everything the pipeline needs for it.

Adding a task or an architecture is adding an entry here, not an ``if task == ...`` branch elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import datumaro as dm

from engine.data.classification import ClassificationDataset
from engine.errors import choice_error
from engine.models import classification as cls_models
from engine.tasks import classification as cls_task


@dataclass(frozen=True)
class TaskSpec:
    name: str
    annotation: dm.AnnotationType  # what Datumaro annotation makes a dataset this task's
    formats: tuple[str, ...]  # Datumaro formats read for this task, preferred first
    min_classes: int
    archs: Mapping[str, Any]
    default_arch: str
    default_img_size: int
    primary_metric: str  # key of the metric that picks the best checkpoint
    build_model: Callable  # (arch, num_classes, pretrained) -> (nn.Module, WeightsStatus)
    make_dataset: Callable  # (samples, img_size, train) -> torch Dataset of (input, target)
    extract_target: Callable  # (DatasetItem, labels) -> (target | None, problem | None)
    make_loss: Callable  # () -> nn.Module
    make_metrics: Callable  # (labels) -> metrics with update / update_predictions / compute
    postprocess: Callable  # (raw network output) -> Prediction
    agreement: Callable  # (Prediction, Prediction) -> 0..1, how far two variants agree
    draw: Callable  # (image, Prediction, labels) -> PIL image
    model_info: Callable  # (labels) -> Model API rt_info entries specific to the task


def _cross_entropy():
    import torch

    return torch.nn.CrossEntropyLoss(label_smoothing=0.1)


TASKS: dict[str, TaskSpec] = {
    "classification": TaskSpec(
        name="classification",
        annotation=dm.AnnotationType.label,
        formats=("imagenet_with_subset_dirs", "imagenet", "voc_classification", "datumaro", "cifar", "mnist"),
        min_classes=2,
        archs=cls_models.ARCHS,
        default_arch="mobilenet_v3_small",
        default_img_size=64,
        primary_metric="top1",
        build_model=cls_models.build_classifier,
        make_dataset=ClassificationDataset,
        extract_target=cls_task.extract_target,
        make_loss=_cross_entropy,
        make_metrics=cls_task.ClassificationMetrics,
        postprocess=cls_task.postprocess,
        agreement=cls_task.agreement,
        draw=cls_task.draw,
        model_info=cls_task.model_info,
    ),
}


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise choice_error("task", name, list(TASKS))
    return TASKS[name]
