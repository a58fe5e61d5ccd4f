"""A run's trained model as the quantization tools see it: the bare FP32 network and its score on a split."""

from __future__ import annotations

from dataclasses import dataclass

import openvino as ov

from engine.choices import CALIBRATION_SPLITS
from engine.compression import calibration
from engine.errors import StudioError, choice_error
from engine.evaluation.evaluate import compiled_infer, network_metrics
from engine.export import convert
from engine.inference.predictor import TorchPredictor
from engine.pipeline.context import Context

SCORING = {"INFERENCE_PRECISION_HINT": "f32"}  # as optimize scores: each number reflects the weights alone


@dataclass(frozen=True)
class TrainedNetwork:
    baseline: TorchPredictor
    fp32: ov.Model  # converted, before the task's post-processing (what NNCF quantizes)

    @classmethod
    def of(cls, ctx: Context, run: dict) -> TrainedNetwork:
        baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
        return cls(baseline, convert.to_openvino(baseline.model, baseline.img_size, baseline.task))

    @property
    def metric(self) -> str:
        return self.baseline.task.primary_metric

    @property
    def metric_name(self) -> str:
        return self.baseline.task.metric_name

    def score(self, network: ov.Model, samples: list) -> float:
        """The task's primary metric of a bare network on ``samples``, decoded as the finished IR decodes."""
        base = self.baseline
        compiled = ov.Core().compile_model(network, "CPU", SCORING)
        metrics = network_metrics(base.task, base.labels, base.img_size, base.model, compiled_infer(compiled), samples)
        return float(metrics[self.metric])


def val_samples(ctx: Context, run: dict) -> list:
    samples = ctx.samples(run, "val")
    if not samples:
        msg = f"run {run['id']}'s dataset has an empty val split; import it with val images to score INT8 layers"
        raise StudioError(msg)
    return samples


def calibration_set(ctx: Context, run: dict, split: str, size: int, seed: int = 0) -> tuple[list, dict]:
    """The calibration subset of ``split`` and its report (coverage, overlap with the other splits, warnings)."""
    if split not in CALIBRATION_SPLITS:
        raise choice_error("--calib-split", split, CALIBRATION_SPLITS)
    samples = ctx.samples(run, split)
    if not samples:
        msg = f"the {split} split of run {run['id']}'s dataset is empty: calibrate on another (--calib-split)"
        raise StudioError(msg)
    subset = calibration.calibration_subset(samples, size, seed)
    others = {name: ctx.samples(run, name) for name in ("val", "test") if name != split}
    task = ctx.task(run)
    report = calibration.describe(task, _labels(ctx, run), split, subset, others)
    return subset, report


def _labels(ctx: Context, run: dict) -> list[str]:
    from engine.data.stored import load_info

    return load_info(ctx.dataset_dir(run["dataset_id"]))["labels"]
