"""Batch-1 latency of several IRs measured side by side: every model once per round, the median of rounds.

Timings on a shared CPU drift by tens of percent within minutes, so models timed one after another are not
comparable; interleaved rounds see the same drift, and their ratios hold.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.benchmark.runner import pinned_infer, read_property, timed_loop
from engine.errors import StudioError
from engine.inference.devices import check_device


def interleaved_latency(
    models: dict[str, Path],
    device: str = "CPU",
    *,
    rounds: int = 5,
    iterations: int = 50,
    warmup: int = 10,
    config: dict | None = None,
    configs: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """``{key: {"median_ms", "rounds_ms", "inference_precision"}}`` for each IR in ``models``, compiled for
    ``device`` with the LATENCY hint (plus ``config``, e.g. an inference precision, and ``configs[key]``)."""
    import openvino as ov

    core = ov.Core()
    check_device(core, device)
    requests, results = {}, {}
    for key, xml in models.items():
        model = core.read_model(xml)
        shape = [d.get_length() for d in model.input(0).get_partial_shape()]
        own = (configs or {}).get(key, {})
        compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "LATENCY", **(config or {}), **own})
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        infer = pinned_infer(compiled.create_infer_request(), x)
        timed_loop(infer, iterations=1, seconds=0, warmup=warmup)
        requests[key] = infer
        results[key] = {"inference_precision": read_property(compiled, "INFERENCE_PRECISION_HINT")}
    for key, rounds_ms in interleaved_rounds(requests, rounds=rounds, iterations=iterations).items():
        results[key] |= {"rounds_ms": rounds_ms, "median_ms": statistics.median(rounds_ms)}
    return results


def interleaved_latency_apart(
    models: dict[str, Path],
    device: str = "CPU",
    *,
    rounds: int = 5,
    iterations: int = 50,
    config: dict | None = None,
    configs: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """:func:`interleaved_latency` in a fresh Python process that imports OpenVINO and never PyTorch.

    A process that has traced and converted PyTorch models (training, optimize, the search) sometimes runs
    sub-millisecond networks at half their speed for the rest of its life: MobileNetV3-Small at 64 px took
    0.50-0.58 ms in 3-4 of 10 such processes and 0.25-0.28 ms in the others, on the VNNI + BF16 EPYC (2 cores,
    LATENCY hint, both threads busy throughout in either case), while 15 of 15 processes that never imported
    torch, and ``benchmark_app``, took 0.25-0.29 ms. Slow processes inflate the ratios of small many-layer models
    (the FP32 reference) against larger ones: the search measured its pick at 1.91x in one, 1.37x in a clean
    process. Timing apart, as a deployment runs, keeps the ratios those of a deployment."""
    payload = {"models": {k: str(v) for k, v in models.items()}, "device": device, "rounds": rounds,
               "iterations": iterations, "config": config or {}, "configs": configs or {}}  # fmt: skip
    root = str(Path(__file__).resolve().parents[2])  # the folder holding ``engine``, wherever this runs from
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "engine.benchmark.interleaved"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("error: ")
        if proc.returncode == 2:  # a refusal (an unknown device): the one line the user should see
            raise StudioError(last)
        msg = f"timing the IRs in a separate process failed (exit {proc.returncode}): {last}"
        raise RuntimeError(msg)
    return json.loads(proc.stdout.strip().splitlines()[-1])  # the last line: a library may print before it


def interleaved_rounds(
    infers: dict[str, Callable[[], object]], *, rounds: int, iterations: int = 0, seconds: float = 0.0, warmup: int = 2
) -> dict[str, list[float]]:
    """``{key: [median ms of each round]}``: in every round each callable is timed in turn (``iterations`` calls,
    or for ``seconds``, after ``warmup`` calls), so slow drift of the machine touches them all alike."""
    per_round: dict[str, list[float]] = {key: [] for key in infers}
    for _ in range(rounds):
        for key, infer in infers.items():
            samples = timed_loop(infer, iterations=iterations, seconds=seconds, warmup=warmup)
            per_round[key].append(statistics.median(samples))
    return per_round


def _main() -> int:
    """``python -m engine.benchmark.interleaved``: :func:`interleaved_latency` of the JSON on stdin, JSON out."""
    asked = json.loads(sys.stdin.read())
    try:
        timing = interleaved_latency(
            {k: Path(v) for k, v in asked["models"].items()},
            asked["device"],
            rounds=asked["rounds"],
            iterations=asked["iterations"],
            config=asked["config"],
            configs=asked["configs"],
        )
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    assert "torch" not in sys.modules, "the timing process must not load PyTorch"
    print(json.dumps(timing, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
