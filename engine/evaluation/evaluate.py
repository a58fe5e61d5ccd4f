"""Score any predictor on a split with the task's torchmetrics code: the same for every variant."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np

from engine.data.images import read_rgb
from engine.inference.prediction import Prediction
from engine.inference.predictor import Predictor
from engine.inference.preprocess import to_input
from engine.tasks import Task


def evaluate_samples(predictor: Predictor, samples: list[tuple[str, object]]) -> tuple[dict, list[Prediction]]:
    """Run ``predictor`` over ``(path, target)`` samples; return (metrics, predictions)."""
    metrics = predictor.task.make_metrics(predictor.labels)
    predictions = [predictor.predict([read_rgb(path)])[0] for path, _ in samples]
    metrics.update_predictions(predictions, [target for _, target in samples])
    result = metrics.compute()
    result["images"] = len(samples)
    result["timing_ms"] = {
        stage: statistics.median(getattr(p.timing, f"{stage}_ms") for p in predictions)
        for stage in ("preprocess", "inference", "postprocess")
    }
    return result, predictions


def agreement_rate(task: Task, a: list[Prediction], b: list[Prediction]) -> float:
    """Mean agreement of two variants' predictions on the same images (1.0 = identical decisions)."""
    if not a:
        return 0.0
    return sum(task.agreement(x, y) for x, y in zip(a, b, strict=True)) / len(a)


def compiled_infer(compiled) -> Callable[[np.ndarray], list[np.ndarray]]:
    """One input -> every output of a compiled OpenVINO network, in output order."""

    def infer(x: np.ndarray) -> list[np.ndarray]:
        results = compiled(x)
        return [results[o] for o in compiled.outputs]

    return infer


def network_metrics(
    task: Task,
    labels: list[str],
    img_size: int,
    model: object,
    infer: Callable[[np.ndarray], list[np.ndarray]],
    samples: list[tuple[str, object]],
) -> dict:
    """The task's metrics of a bare network (``infer``: one input -> its raw outputs, e.g. a quantized network
    before its detection NMS), decoded as the finished IR decodes them (``model``: the trained torch model)."""
    metrics = task.make_metrics(labels)
    predictions = []
    for path, _ in samples:
        image = read_rgb(path)
        outputs = task.decode_raw(model, infer(to_input(image, img_size)), img_size)
        predictions.append(task.postprocess(outputs, image.shape[:2], (img_size, img_size)))
    metrics.update_predictions(predictions, [target for _, target in samples])
    return metrics.compute()
