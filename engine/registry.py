"""The task registry, as data: one entry per task names everything the pipeline needs for it.

Adding a task or an architecture is adding an entry here, not an ``if task == ...`` branch elsewhere.
A *target* is what a task learns per image: a class index (classification), a dict of ``boxes``
(x1 y1 x2 y2 pixels) and ``labels`` (detection), or a class-index mask (segmentation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datumaro as dm

from engine.data.classification import ClassificationDataset
from engine.data.detection import DetectionDataset, collate
from engine.data.segmentation import SegmentationDataset
from engine.errors import choice_error
from engine.models import classification as cls_models
from engine.models import detection as det_models
from engine.models import segmentation as seg_models
from engine.tasks import classification as cls_task
from engine.tasks import detection as det_task
from engine.tasks import segmentation as seg_task


def _unchanged(ov_model: Any, *_: Any) -> Any:
    return ov_model


@dataclass(frozen=True)
class TaskSpec:
    name: str
    annotations: tuple[dm.AnnotationType, ...]  # Datumaro annotations that make a dataset this task's
    formats: tuple[str, ...]  # Datumaro formats read for this task, preferred first
    min_classes: int
    archs: Mapping[str, Any]
    default_arch: str
    train_defaults: Mapping[str, Any]  # epochs, batch_size, img_size, lr reaching a good model on the sample
    primary_metric: str  # key of the metric that picks the best checkpoint
    build_model: Callable  # (arch, num_classes, pretrained) -> (nn.Module, WeightsStatus)
    make_dataset: Callable  # (samples, img_size, train) -> torch Dataset of (input, target)
    extract_target: Callable  # (DatasetItem, labels) -> (target | None, problem | None)
    classes_of: Callable  # (target) -> list of class indices it contains (one per object)
    target_stats: Callable  # (targets, labels) -> task-specific dataset statistics
    train_loss: Callable  # (model, inputs, targets) -> scalar loss tensor (model in train mode)
    torch_outputs: Callable  # (model, batch) -> per image, the IR's outputs computed by PyTorch
    evaluate_batch: Callable  # (model, batch, targets) -> (torch_outputs, validation loss | None), one forward
    export_module: Callable  # (model, img_size) -> nn.Module returning a tuple, converted to OpenVINO
    make_metrics: Callable  # (labels) -> metrics with update_predictions(predictions, targets) / compute
    postprocess: Callable  # (outputs, image_hw, input_hw) -> Prediction in original-image coordinates
    agreement: Callable  # (Prediction, Prediction) -> 0..1, how far two variants agree
    draw: Callable  # (image, Prediction, labels) -> PIL image
    summarize: Callable  # (Prediction, labels) -> JSON-able description of a prediction
    brief: Callable  # (Prediction, labels) -> one short line (Compare's table)
    ground_truth: Callable  # (target) -> Prediction, to draw annotations with the same functions
    metric_name: str  # how the primary metric is shown
    model_info: Callable  # (labels) -> Model API rt_info entries specific to the task
    output_names: tuple[str, ...]  # names of the IR outputs, in order
    sample_target: Callable | None = None  # (item, labels, folder) -> what split_samples hands out (lazy masks)
    finish_ir: Callable = _unchanged  # (ov.Model, model, img_size) -> IR with post-processing appended
    collate: Callable | None = None  # DataLoader collate_fn (None = stack)
    decode_raw: Callable | None = None  # (model, raw network outputs, img_size) -> IR outputs, when finish_ir adds any
    gallery_caption: Callable = field(default=lambda target, labels: "")  # (target, labels) -> str


TASKS: dict[str, TaskSpec] = {
    "classification": TaskSpec(
        name="classification",
        annotations=(dm.AnnotationType.label,),
        formats=("imagenet_with_subset_dirs", "imagenet", "voc_classification", "datumaro", "cifar", "mnist"),
        min_classes=2,
        archs=cls_models.ARCHS,
        default_arch="mobilenet_v3_small",
        train_defaults={"epochs": 10, "batch_size": 32, "img_size": 64, "lr": 2e-3},
        primary_metric="top1",
        build_model=cls_models.build_model,
        make_dataset=ClassificationDataset,
        extract_target=cls_task.extract_target,
        classes_of=cls_task.classes_of,
        target_stats=cls_task.target_stats,
        train_loss=cls_task.train_loss,
        torch_outputs=cls_task.torch_outputs,
        evaluate_batch=cls_task.evaluate_batch,
        export_module=cls_task.export_module,
        make_metrics=cls_task.ClassificationMetrics,
        postprocess=cls_task.postprocess,
        agreement=cls_task.agreement,
        draw=cls_task.draw,
        summarize=cls_task.summarize,
        brief=cls_task.brief,
        ground_truth=cls_task.ground_truth,
        metric_name="top-1",
        model_info=cls_task.model_info,
        output_names=("logits",),
        gallery_caption=cls_task.caption,
    ),
    "detection": TaskSpec(
        name="detection",
        annotations=(dm.AnnotationType.bbox,),
        formats=("coco_instances", "coco", "voc_detection", "yolo", "datumaro"),
        min_classes=1,
        archs=det_models.ARCHS,
        default_arch="ssdlite320_mobilenet_v3_large",
        train_defaults=det_models.TRAIN_DEFAULTS,
        primary_metric="map_50",
        build_model=det_models.build_model,
        make_dataset=DetectionDataset,
        extract_target=det_task.extract_target,
        classes_of=det_task.classes_of,
        target_stats=det_task.target_stats,
        train_loss=det_task.train_loss,
        torch_outputs=det_task.torch_outputs,
        evaluate_batch=det_task.evaluate_batch,
        export_module=det_task.export_module,
        make_metrics=det_task.DetectionMetrics,
        postprocess=det_task.postprocess,
        agreement=det_task.agreement,
        draw=det_task.draw,
        summarize=det_task.summarize,
        brief=det_task.brief,
        ground_truth=det_task.ground_truth,
        metric_name="mAP@0.5",
        model_info=det_task.model_info,
        output_names=("boxes", "labels"),
        finish_ir=det_task.finish_ir,
        collate=collate,
        decode_raw=det_task.decode_raw,
        gallery_caption=det_task.caption,
    ),
    "segmentation": TaskSpec(
        name="segmentation",
        annotations=(dm.AnnotationType.mask, dm.AnnotationType.polygon),
        formats=(
            "common_semantic_segmentation_with_subset_dirs",
            "common_semantic_segmentation",
            "voc_segmentation",
            "cityscapes",
            "datumaro",
        ),
        min_classes=2,
        archs=seg_models.ARCHS,
        default_arch="lraspp_mobilenet_v3_large",
        train_defaults=seg_models.TRAIN_DEFAULTS,
        primary_metric="miou",
        build_model=seg_models.build_model,
        make_dataset=SegmentationDataset,
        extract_target=seg_task.extract_target,
        classes_of=seg_task.classes_of,
        target_stats=seg_task.target_stats,
        train_loss=seg_task.train_loss,
        torch_outputs=seg_task.torch_outputs,
        evaluate_batch=seg_task.evaluate_batch,
        export_module=seg_task.export_module,
        make_metrics=seg_task.SegmentationMetrics,
        postprocess=seg_task.postprocess,
        agreement=seg_task.agreement,
        draw=seg_task.draw,
        summarize=seg_task.summarize,
        brief=seg_task.brief,
        ground_truth=seg_task.ground_truth,
        metric_name="mIoU",
        model_info=seg_task.model_info,
        output_names=("scores",),
        sample_target=seg_task.MaskRef.of,
        gallery_caption=seg_task.caption,
    ),
}


def get_task(name: str) -> TaskSpec:
    if name not in TASKS:
        raise choice_error("task", name, list(TASKS))
    return TASKS[name]
