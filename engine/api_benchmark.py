"""The measuring verbs: benchmark variants, their newest results, per-layer profiles, the devices, and what INT8
buys each architecture on this CPU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine import lazy, tracking
from engine.pipeline.context import Context
from engine.results import BenchmarkResult, BenchmarkTable, Int8GainsResult, ProfileResult

benchmarking = lazy.module("engine.pipeline.benchmarking")
int8_gains = lazy.module("engine.pipeline.int8_gains")
profiling = lazy.module("engine.pipeline.profiling")
runs = lazy.module("engine.pipeline.runs")

Workspace = str | Path | None


def benchmark(
    run: int,
    *,
    variants: Sequence[str] | None = None,
    devices: Sequence[str] = ("CPU",),
    hint: str = "both",
    precisions: Sequence[str] = ("default",),
    iterations: int = 200,
    seconds: float = 0.0,
    warmup: int = 10,
    workspace: Workspace = None,
) -> BenchmarkResult:
    """Latency (sync) and throughput (async) per variant x device x inference precision.

    Python: ``engine.benchmark(3, devices=["CPU", "AUTO"], precisions=["default", "f32"], iterations=200)``
    CLI:    ``python -m engine benchmark 3 --devices CPU,AUTO --precisions default,f32 --iterations 200``
    """
    ctx = Context.open(workspace)
    result = benchmarking.benchmark(
        ctx,
        run,
        variants=variants,
        devices=devices,
        hint=hint,
        precisions=precisions,
        iterations=iterations,
        seconds=seconds,
        warmup=warmup,
    )
    return tracking.after("benchmark", ctx, result)


def profile(
    run: int,
    *,
    variants: Sequence[str] = ("fp32", "int8"),
    device: str = "CPU",
    precision: str = "default",
    iterations: int = 50,
    workspace: Workspace = None,
) -> ProfileResult:
    """Per-layer profile (OpenVINO PERF_COUNT) of IR variants side by side: time by op type and by kernel
    precision, the share spent in INT8 kernels, the slowest layers, and the layers left in float and why.

    Python: ``engine.profile(3, variants=["fp32", "int8"])["profiles"]["int8"]["int8_share"]``
    CLI:    ``python -m engine profile 3 --variants fp32,int8 --device CPU``
    """
    return profiling.profile(
        Context.open(workspace), run, variants=variants, device=device, precision=precision, iterations=iterations
    )


def measure_int8(
    task: str,
    *,
    size: int = 0,
    archs: Sequence[str] | None = None,
    rounds: int = 3,
    seconds: float = 1.0,
    workspace: Workspace = None,
) -> Int8GainsResult:
    """What INT8 buys each architecture of ``task`` on this CPU: its FP32 IR and NNCF PTQ INT8 IR (random init,
    calibrated on the task's tiny sample), batch-1 latency at the CPU's default precision, interleaved in
    ``rounds`` of ``seconds`` each; ``size`` 0 = the task's realistic size (224 px classification, 320 detection,
    256 segmentation). Kept in the workspace for this CPU: the Train page, the search and the benchmark verdict
    then use these numbers instead of the table measured on another CPU.

    Python: ``engine.measure_int8(engine.DEFAULT_TASK, archs=["resnet18", "mobilenet_v3_small"])``
    CLI:    ``python -m engine measure-int8 --task classification --archs resnet18,mobilenet_v3_small``
    """
    ctx = Context.open(workspace)
    return int8_gains.measure_int8(ctx, task, size=size, archs=archs, rounds=rounds, seconds=seconds)


def benchmark_table(run: int, *, workspace: Workspace = None) -> BenchmarkTable:
    """The newest benchmark result per variant x device x precision, with every request's latency.

    Python: ``engine.benchmark_table(3)["rows"]``      CLI: ``python -m engine runs benchmarks 3``
    """
    return benchmarking.benchmark_table(Context.open(workspace), run)


def devices() -> list[dict]:
    """OpenVINO devices and their key properties, plus AUTO.

    Python: ``engine.devices()``      CLI: ``python -m engine devices``
    """
    return runs.devices()
