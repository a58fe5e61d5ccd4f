"""What every benchmark script shares: build the variants through the product's own variant table, score
them on the test split, and time batch-1 latency of every configuration interleaved in rounds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import openvino as ov

from engine.benchmark.runner import timed_loop
from engine.compression.calibration import calibration_subset
from engine.data.images import read_rgb
from engine.evaluation.evaluate import evaluate_samples
from engine.export import convert
from engine.export.variants import VARIANTS, BuildContext
from engine.inference.predictor import OpenVINOPredictor, TorchPredictor
from engine.inference.preprocess import to_input

F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def configurations(baseline: TorchPredictor, size: int, calib: list, out: Path) -> tuple[list, dict]:
    """(name, predictor) for every configuration of ``baseline``'s weights at input ``size``.

    The IRs are built by the product's own variant table, so this measures what ``optimize`` produces.
    """
    task, labels, stem = baseline.task, baseline.labels, f"{out.name}_{size}"
    build = BuildContext(
        fp32_model=convert.to_openvino(baseline.model, size, task),
        finish=lambda m, model=None: convert.finish(m, task, model or baseline.model, size, labels),
        convert=lambda model: convert.to_openvino(model, size, task),
        torch_model=baseline.model,
        train_samples=calib,
        val_samples=[],
        calibration=calibration_subset(calib, 300),
        task=task,
        labels=labels,
        img_size=size,
        seed=0,
    )
    paths = {}
    for name in ("fp32", "fp16", "int8"):
        model, fp16 = VARIANTS[name].build(build)
        paths[name] = convert.save_ir(model, out / f"{name}_{stem}", fp16=fp16)
    torch_at_size = TorchPredictor(baseline.model, task, labels, size)
    return [
        ("PyTorch eager FP32", torch_at_size),
        ("OV FP32 (f32 hint)", OpenVINOPredictor(paths["fp32"], "CPU", F32)),
        ("OV FP32 (default)", OpenVINOPredictor(paths["fp32"], "CPU", {})),
        ("OV FP16 (default)", OpenVINOPredictor(paths["fp16"], "CPU", {})),
        ("OV INT8 (f32 hint)", OpenVINOPredictor(paths["int8"], "CPU", F32)),
        ("OV INT8 (default)", OpenVINOPredictor(paths["int8"], "CPU", {})),
    ], paths


def measure(
    baseline: TorchPredictor, size: int, calib: list, test: list | None, out: Path, rounds: int, iterations: int
) -> list[dict]:
    """Accuracy on ``test`` (when given) and interleaved batch-1 latency of every configuration."""
    configs, paths = configurations(baseline, size, calib, out)
    key = baseline.task.primary_metric
    rows = {name: {"model": out.name, "config": name, "size": size, key: None} for name, _ in configs}
    for name, predictor in configs:
        rows[name]["inference_precision"] = precision_of(predictor)
        if test is not None:
            rows[name][key] = evaluate_samples(predictor, test)[0][key]
    # a test image when there is one: a detector's post-processing (NMS, a mask per box) costs by what it finds
    image = read_rgb(test[0][0]) if test else np.zeros((size, size, 3), dtype=np.uint8)
    x = to_input(image, size)
    per_round: dict[str, list[float]] = {name: [] for name, _ in configs}
    for _ in range(rounds):
        for name, predictor in configs:  # interleaved: every configuration once per round
            samples = timed_loop(lambda p=predictor: p.infer(x), iterations=iterations, seconds=0, warmup=20)
            per_round[name].append(statistics.median(samples))
    sizes = {"OV FP32": paths["fp32"], "OV FP16": paths["fp16"], "OV INT8": paths["int8"]}
    for name, row in rows.items():
        row["latency_ms_median"] = statistics.median(per_round[name])
        row["latency_ms_rounds"] = per_round[name]
        row["ir_bytes"] = next((convert.ir_size(v) for k, v in sizes.items() if name.startswith(k)), None)
    int8 = rows["OV INT8 (default)"]
    for row in rows.values():
        row["int8_speedup"] = row["latency_ms_median"] / int8["latency_ms_median"]
        if test is not None:
            row[f"{key}_drop_int8_pp"] = 100 * (row[key] - int8[key])
    return list(rows.values())


def precision_of(predictor) -> str:
    if predictor.backend == "pytorch":
        return "f32"
    return predictor.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()


def run_meta(rounds: int, iterations: int) -> dict:
    """How the timings were taken and on what."""
    return {
        "rounds": rounds,
        "iterations": iterations,
        "openvino": ov.get_version(),
        "cpu": ov.Core().get_property("CPU", "FULL_DEVICE_NAME"),
    }


def write_results(out: Path, name: str, payload: dict, table: str) -> None:
    """``<out>/<name>.json`` (everything measured) and ``<out>/<name>.md`` (the table), then print the table."""
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (out / f"{name}.md").write_text(table)
    print(table)
