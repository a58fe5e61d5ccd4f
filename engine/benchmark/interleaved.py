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
    warmup_rounds: int = 0,
) -> dict[str, dict]:
    """``{key: {"median_ms", "rounds_ms", "inference_precision"}}`` for each IR in ``models``, compiled for
    ``device`` with the LATENCY hint (plus ``config``, e.g. an inference precision, and ``configs[key]``),
    after ``warmup_rounds`` untimed rounds."""
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
    timed = interleaved_rounds(requests, rounds=warmup_rounds + rounds, iterations=iterations)
    for key, rounds_ms in timed.items():
        kept = rounds_ms[warmup_rounds:]
        results[key] |= {"rounds_ms": kept, "median_ms": statistics.median(kept)}
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
    """:func:`interleaved_latency` with each round in its own fresh Python process that loads OpenVINO and never
    PyTorch; the median of the rounds.

    On the 2-core VNNI + BF16 EPYC a process sometimes runs sub-millisecond networks at about half their speed
    for its whole life (both OpenVINO threads busy throughout; not OpenMP spinning, not CPU pinning).
    MobileNetV3-Small at 64 px took 0.50-0.58 ms in 3-4 of 10 processes that had converted torch models and
    0.25-0.28 ms in the others; one fresh process of the search timed the reference at 0.66 ms and its pick at
    1.81x, where rounds in fresh processes put the same pair at 1.34x. Such a process inflates a small
    many-layer network's latency (the FP32 reference) more than a larger one's, so one process decides the
    ratio; a new process per round makes a slow one a single round that the median outvotes."""
    root = str(Path(__file__).resolve().parents[2])  # the folder holding ``engine``, wherever this runs from
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    payload = json.dumps({"models": {k: str(v) for k, v in models.items()}, "device": device, "rounds": 1,
                          "iterations": iterations, "config": config or {}, "configs": configs or {}})  # fmt: skip
    results: dict[str, dict] = {}
    for _ in range(rounds):
        proc = subprocess.run(
            [sys.executable, "-m", "engine.benchmark.interleaved"],
            input=payload,
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
        one = json.loads(proc.stdout.strip().splitlines()[-1])  # the last line: a library may print before it
        for key, entry in one.items():
            mine = results.setdefault(key, {"inference_precision": entry["inference_precision"], "rounds_ms": []})
            mine["rounds_ms"] += entry["rounds_ms"]
    for entry in results.values():
        entry["median_ms"] = statistics.median(entry["rounds_ms"])
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
            # the first round after compiling many IRs can run the first ones slow (49 small IRs: the first three
            # at 1.27-1.38x their later rounds in one of three processes): one untimed round over them all first
            warmup_rounds=1,
        )
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    assert "torch" not in sys.modules, "the timing process must not load PyTorch"
    print(json.dumps(timing, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
