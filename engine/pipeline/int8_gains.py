"""Which architectures INT8 speeds up on *this* CPU, measured here (the ``measure_int8`` verb).

For each architecture of a task (random init: speed does not depend on the weights' values): the product's own
FP32 IR and NNCF PTQ INT8 IR (the ``fp32`` and ``int8`` rows of the variant table, calibrated on the task's tiny
sample), then batch-1 latency of each at the CPU plugin's default precision, *interleaved in rounds* (every
configuration once per round), medians of the round medians. ``benchmarks/zoo.py`` measures the same way (plus
PyTorch and the f32 hint) for the table committed with the product.

The rows are kept in the workspace per CPU (its model name, ISA flags and OpenVINO version: a workspace shared by
machines of several kinds keeps each one's rows), and :func:`measured_here` hands this CPU's to
``engine.models.zoo``, which prefers them to the committed table's: the Train page, the search's order and the
benchmark verdict then speak of this CPU, not of the one the table was measured on.
"""

from __future__ import annotations

import functools
import logging
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.errors import StudioError, choice_error
from engine.pipeline.context import Context
from engine.status import Backend
from engine.store.atomic import read_json, write_json
from engine.tasks import get_task

log = logging.getLogger(__name__)
FILE = "int8_gains.json"
DEFAULT_HINT = ("fp32 (default hint)", "int8 (default hint)")  # what the verb times (the zoo adds two more)


def cpu_key(machine: dict) -> str:
    """One kind of CPU for INT8 speed: model name, ISA flags and the OpenVINO that ran."""
    return f"{machine['cpu_model']} | {' '.join(machine['isa']) or 'no AVX2'} | OpenVINO {machine['openvino']}"


def measured_here(ctx: Context) -> list[dict]:
    """This CPU's rows from the workspace (none: never measured here)."""
    path = ctx.ws.root / FILE
    if not path.is_file():
        return []
    return read_json(path).get(this_cpu(), {}).get("rows", [])


@functools.cache
def this_cpu() -> str:
    """This machine's :func:`cpu_key`, read once per process (the pages ask on every rerun)."""
    import openvino as ov

    from engine.benchmark.machine import cpu_model, isa

    return cpu_key({"cpu_model": cpu_model(), "isa": isa(), "openvino": ov.get_version()})


def calibration_samples(task: str, tmp: Path, *, tiny: bool = True) -> tuple[list, list[str]]:
    """The train split of the task's (tiny) built-in sample, imported as a user's data would be."""
    from engine.pipeline.datasets import import_dataset

    spec = get_task(task)
    spec.write_sample(tmp / "data", tiny=tiny)
    ctx = Context.open(tmp / "ws")
    dataset = import_dataset(ctx, tmp / "data", task=task)["dataset"]
    row = ctx.db.get_dataset(dataset)
    return ctx.samples(row, "train"), row["info"]["labels"]


def build_irs(task_name: str, arch: str, size: int, calib: list, labels: list[str], out: Path, calib_size: int):
    """(torch model, FP32 IR path, INT8 IR path): built by the product's own variant table."""
    from engine.compression.calibration import calibration_subset
    from engine.export.random_init import random_init_irs

    subset = calibration_subset(calib, calib_size)  # speed does not depend on how many calibrate
    folder = out / f"{task_name}_{arch}_{size}"
    model, paths = random_init_irs(get_task(task_name), arch, size, labels, subset, ("fp32", "int8"), folder)
    return model, paths["fp32"], paths["int8"]


def measure_arch(
    task_name: str,
    arch: str,
    size: int,
    calib: list,
    labels: list[str],
    out: Path,
    *,
    rounds: int,
    seconds: float,
    calib_size: int = 64,
    configs: Sequence[str] = DEFAULT_HINT,
) -> dict:
    """One architecture's row: the median latency of each of ``configs`` (``pytorch``, ``fp32 (default hint)``,
    ``fp32 (f32 hint)``, ``int8 (default hint)``), the precision each ran in, INT8's speed-ups and the IR sizes."""
    from engine.benchmark.interleaved import interleaved_rounds
    from engine.benchmark.stats import CpuWatch
    from engine.export import convert
    from engine.inference.predictor import OpenVINOPredictor, TorchPredictor
    from engine.inference.preprocess import to_input

    task = get_task(task_name)
    began = time.perf_counter()
    model, fp32, int8 = build_irs(task_name, arch, size, calib, labels, out, calib_size)
    build_s = time.perf_counter() - began
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    make = {
        "pytorch": lambda: TorchPredictor(model, task, labels, size),
        "fp32 (default hint)": lambda: OpenVINOPredictor(fp32, "CPU", {}),
        "fp32 (f32 hint)": lambda: OpenVINOPredictor(fp32, "CPU", f32),
        "int8 (default hint)": lambda: OpenVINOPredictor(int8, "CPU", {}),
    }
    predictors = {name: make[name]() for name in configs}
    x = to_input(np.zeros((size, size, 3), dtype=np.uint8), size)
    infers = {name: (lambda p=predictor: p.infer(x)) for name, predictor in predictors.items()}
    with CpuWatch() as watch:  # other processes' CPU use while timing: the row says when it was contended
        per_round = interleaved_rounds(infers, rounds=rounds, seconds=seconds, warmup=5)
    median = {name: statistics.median(v) for name, v in per_round.items()}
    int8_ms = median["int8 (default hint)"]
    row = {
        "task": task_name,
        "arch": arch,
        "size": size,
        "latency_ms": median,
        "latency_ms_rounds": per_round,
        "precision": {name: _precision(p) for name, p in predictors.items()},
        "int8_vs_fp32_default": median["fp32 (default hint)"] / int8_ms,
        "fp32_ir_bytes": convert.ir_size(fp32),
        "int8_ir_bytes": convert.ir_size(int8),
        "build_s": build_s,
        "default": arch == task.default_arch,
        "contended": watch.contended,
        "other_cpu_fraction": watch.other_cpu_fraction,
    }
    if "fp32 (f32 hint)" in median:
        row["int8_vs_fp32_f32"] = median["fp32 (f32 hint)"] / int8_ms
    if "pytorch" in median:
        row["int8_vs_pytorch"] = median["pytorch"] / int8_ms
    return row


def _precision(predictor) -> str:
    from engine.benchmark.runner import read_property

    if predictor.backend == Backend.PYTORCH:
        return "f32"
    return read_property(predictor.compiled, "INFERENCE_PRECISION_HINT")


def measure_int8(
    ctx: Context,
    task: str,
    *,
    size: int = 0,
    archs: Sequence[str] | None = None,
    rounds: int = 3,
    seconds: float = 1.0,
) -> dict:
    """Measure ``archs`` (default: every architecture of ``task``) at ``size`` px (default: the task's
    ``realistic_size``) on this CPU, keep the rows in the workspace for this CPU and return them."""
    from engine.benchmark.machine import cpu_facts

    spec = get_task(task)
    chosen = list(archs) if archs else list(spec.archs)
    for arch in chosen:
        if arch not in spec.archs:
            raise choice_error(f"{task} model", arch, list(spec.archs))
    size = size or spec.realistic_size
    if not 32 <= size <= 1024 or rounds < 1 or not seconds > 0:
        msg = (
            f"--size must be 32-1024 px, --rounds >= 1 and --seconds > 0 (got {size}, {rounds}, {seconds:g});"
            f" the defaults are {spec.realistic_size} px, 3 rounds, 1 s"
        )
        raise StudioError(msg)
    machine = cpu_facts()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        calib, labels = calibration_samples(task, Path(tmp))
        for arch in chosen:
            log.info("measuring %s %s at %d px (FP32 and INT8 IR, %d rounds)", task, arch, size, rounds)
            row = measure_arch(task, arch, size, calib, labels, Path(tmp), rounds=rounds, seconds=seconds)
            log.info("%s: INT8 %.2fx the FP32 IR", arch, row["int8_vs_fp32_default"])
            rows.append(row)
    path = _save(ctx, machine, rows)
    return {"task": task, "size": size, "machine": machine, "rows": rows, "saved": str(path)}


def _save(ctx: Context, machine: dict, rows: list[dict]) -> Path:
    """Merge ``rows`` into this CPU's entry (a new row replaces the one of the same task, architecture and size)."""
    path = ctx.ws.root / FILE
    stored = read_json(path) if path.is_file() else {}
    entry = stored.setdefault(cpu_key(machine), {"machine": machine, "rows": []})
    new = {(r["task"], r["arch"], r["size"]) for r in rows}
    entry["rows"] = [r for r in entry["rows"] if (r["task"], r["arch"], r["size"]) not in new] + rows
    entry["machine"] = machine
    write_json(path, stored)
    return path
