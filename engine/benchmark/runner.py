"""benchmark_app-style measurements of one variant on one device.

Synchronous latency: compile with the LATENCY hint, time the first inference, warm up, then time each
request over N iterations or S seconds. Asynchronous throughput: compile with the THROUGHPUT hint and
keep the device's optimal number of requests in flight. The precision the device actually used
(``INFERENCE_PRECISION_HINT``; BF16 by default on CPUs with AMX/AVX512-BF16) is always recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.benchmark.stats import CpuWatch, latency_stats
from engine.inference.devices import check_device
from engine.status import Backend

PRECISIONS = ("default", "f32", "bf16", "f16")


def timed_loop(run: Callable[[], object], *, iterations: int, seconds: float, warmup: int) -> list[float]:
    for _ in range(warmup):
        run()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds if seconds else None
    while True:
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1e3)
        if deadline is not None:
            if time.perf_counter() >= deadline:
                break
        elif len(samples) >= iterations:
            break
    return samples


def pinned_infer(request, x: np.ndarray) -> Callable[[], None]:
    """One synchronous inference with nothing done per call in Python: the input tensor is set once (no
    per-call numpy -> tensor copy, as ``infer({0: x})`` makes) and outputs are left in the request (no
    per-call copy into a result dict). What ``benchmark_app`` times in C++."""
    import openvino as ov

    request.set_input_tensor(ov.Tensor(np.ascontiguousarray(x)))

    def run() -> None:
        request.start_async()
        request.wait()

    return run


def benchmark_openvino(
    xml: Path,
    device: str = "CPU",
    *,
    hint: str = "both",
    precision: str = "default",
    iterations: int = 200,
    seconds: float = 0.0,
    warmup: int = 10,
) -> dict:
    import openvino as ov

    core = ov.Core()
    check_device(core, device)
    model = core.read_model(xml)
    shape = [d.get_length() for d in model.input(0).get_partial_shape()]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    extra = {} if precision == "default" else {"INFERENCE_PRECISION_HINT": precision}
    result: dict = {
        "backend": Backend.OPENVINO,
        "device": device,
        "device_name": device_name(core, device),
        "precision_requested": precision,
        "input_shape": shape,
    }
    with CpuWatch() as watch:
        if hint in ("latency", "both"):
            t0 = time.perf_counter()
            compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "LATENCY", **extra})
            result["compile_ms"] = (time.perf_counter() - t0) * 1e3
            result["inference_precision"] = read_property(compiled, "INFERENCE_PRECISION_HINT")
            request = compiled.create_infer_request()
            infer = pinned_infer(request, x)
            t0 = time.perf_counter()
            infer()
            result["first_inference_ms"] = (time.perf_counter() - t0) * 1e3
            samples = timed_loop(infer, iterations=iterations, seconds=seconds, warmup=warmup)
            result["latency_ms"] = latency_stats(samples)
            result["latency_samples_ms"] = [round(s, 4) for s in samples]
            del request, compiled
        if hint in ("throughput", "both"):
            result["throughput"] = _async_throughput(core, model, device, x, extra, iterations, seconds, warmup)
            result.setdefault("inference_precision", result["throughput"].pop("inference_precision"))
    result["environment"] = watch.report()
    return result


def _async_throughput(core, model, device, x, extra, iterations, seconds, warmup) -> dict:
    import openvino as ov

    t0 = time.perf_counter()
    compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "THROUGHPUT", **extra})
    compile_ms = (time.perf_counter() - t0) * 1e3
    nireq = int(read_property(compiled, "OPTIMAL_NUMBER_OF_INFER_REQUESTS") or 1)
    queue = ov.AsyncInferQueue(compiled, nireq)
    tensor = ov.Tensor(np.ascontiguousarray(x))
    for index in range(nireq):  # inputs set once per request, as benchmark_app does
        queue[index].set_input_tensor(tensor)
    latencies: list[float] = []
    queue.set_callback(lambda _req, start: latencies.append((time.perf_counter() - start) * 1e3))
    for _ in range(max(warmup, nireq)):
        queue.start_async(userdata=time.perf_counter())
    queue.wait_all()
    latencies.clear()
    total = max(iterations * nireq, nireq) if not seconds else None
    deadline = time.perf_counter() + seconds if seconds else None
    sent, start = 0, time.perf_counter()
    while (deadline is not None and time.perf_counter() < deadline) or (total is not None and sent < total):
        queue.start_async(userdata=time.perf_counter())
        sent += 1
    queue.wait_all()
    elapsed = time.perf_counter() - start
    return {
        "fps": sent / elapsed,
        "requests": sent,
        "duration_s": elapsed,
        "nireq": nireq,
        "streams": read_property(compiled, "NUM_STREAMS"),
        "compile_ms": compile_ms,
        "latency_ms": latency_stats(latencies),
        "inference_precision": read_property(compiled, "INFERENCE_PRECISION_HINT"),
    }


def benchmark_torch(checkpoint: Path, *, iterations: int = 200, seconds: float = 0.0, warmup: int = 10) -> dict:
    """The PyTorch eager baseline, measured the same way (batch 1, synchronous)."""
    import torch

    from engine.inference.predictor import TorchPredictor

    t0 = time.perf_counter()
    predictor = TorchPredictor.from_checkpoint(checkpoint)
    load_ms = (time.perf_counter() - t0) * 1e3
    size = predictor.img_size
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    result: dict = {
        "backend": Backend.PYTORCH,
        "device": "CPU",
        "device_name": "PyTorch eager (CPU)",
        "precision_requested": "default",
        "inference_precision": "f32",
        "input_shape": [1, 3, size, size],
        "compile_ms": load_ms,
        "torch_threads": torch.get_num_threads(),
    }
    with CpuWatch() as watch:
        t0 = time.perf_counter()
        predictor.infer(x)
        result["first_inference_ms"] = (time.perf_counter() - t0) * 1e3
        samples = timed_loop(lambda: predictor.infer(x), iterations=iterations, seconds=seconds, warmup=warmup)
    stats = latency_stats(samples)
    result["latency_ms"] = stats
    result["latency_samples_ms"] = [round(s, 4) for s in samples]
    result["throughput"] = {"fps": 1e3 / stats["mean"], "nireq": 1, "streams": 1, "note": "sequential batch-1 requests"}
    result["environment"] = watch.report()
    return result


def device_name(core, device: str) -> str:
    if device.startswith(("AUTO", "MULTI", "HETERO")):
        return f"{device} (automatic device selection)"
    try:
        return str(core.get_property(device, "FULL_DEVICE_NAME"))
    except RuntimeError:
        return device


def read_property(compiled, name: str):
    try:
        value = compiled.get_property(name)
    except RuntimeError:
        return None
    return value.get_type_name() if hasattr(value, "get_type_name") else value
