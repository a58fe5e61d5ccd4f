"""Batch-1 latency of several IRs measured side by side: every model once per round, the median of rounds.

Timings on a shared CPU drift by tens of percent within minutes, so models timed one after another are not
comparable; interleaved rounds see the same drift, and their ratios hold.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.benchmark.runner import pinned_infer, read_property, timed_loop
from engine.inference.devices import check_device


def interleaved_latency(
    models: dict[str, Path],
    device: str = "CPU",
    *,
    rounds: int = 5,
    iterations: int = 50,
    warmup: int = 10,
    config: dict | None = None,
) -> dict[str, dict]:
    """``{key: {"median_ms", "rounds_ms", "inference_precision"}}`` for each IR in ``models``, compiled for
    ``device`` with the LATENCY hint (plus ``config``, e.g. an inference precision)."""
    import openvino as ov

    core = ov.Core()
    check_device(core, device)
    requests, results = {}, {}
    for key, xml in models.items():
        model = core.read_model(xml)
        shape = [d.get_length() for d in model.input(0).get_partial_shape()]
        compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "LATENCY", **(config or {})})
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        infer = pinned_infer(compiled.create_infer_request(), x)
        timed_loop(infer, iterations=1, seconds=0, warmup=warmup)
        requests[key] = infer
        results[key] = {"inference_precision": read_property(compiled, "INFERENCE_PRECISION_HINT")}
    for key, rounds_ms in interleaved_rounds(requests, rounds=rounds, iterations=iterations).items():
        results[key] |= {"rounds_ms": rounds_ms, "median_ms": statistics.median(rounds_ms)}
    return results


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
