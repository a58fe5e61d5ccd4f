"""Per-layer profile of one IR on one device: where the time goes, in which kernel and precision, and why
a layer the quantizer could have made INT8 stayed in float.

OpenVINO's ``PERF_COUNT=YES`` reports, per executed node of the compiled (fused) graph, its type, the
kernel that ran (``exec_type``, e.g. ``brgconv_avx512_amx_1x1_i8``) and its time; the kernel name ends in
the precision it computed in. Each executed node is mapped back to the IR's operations through the runtime
model's ``originalLayersNames``, and the IR tells which convolutions and matrix products were quantized
(their input comes through a ``FakeQuantize``). A compute layer that was not is listed with a reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from engine.benchmark.runner import read_property
from engine.inference.devices import check_device

COMPUTE = ("Convolution", "GroupConvolution", "MatMul", "ConvolutionBackpropData")  # what NNCF quantizes
_PRECISION = re.compile(r"_(i8|u8|bf16|f16|fp16|f32|fp32|i32)$", re.IGNORECASE)
_ALIASES = {"fp32": "f32", "fp16": "f16", "u8": "i8"}
_SE_AFTER = ("HSigmoid", "Sigmoid")  # squeeze-excite: pool -> conv -> act -> conv -> (h)sigmoid -> multiply


def kernel_precision(exec_type: str) -> str:
    """``brgconv_avx512_amx_1x1_I8`` -> ``i8``; ``undef``/``unknown`` -> ``""``."""
    found = _PRECISION.search(exec_type or "")
    if not found:
        return ""
    value = found.group(1).lower()
    return _ALIASES.get(value, value)


def profile_ir(
    xml: str | Path, device: str = "CPU", *, precision: str = "default", iterations: int = 50, warmup: int = 5
) -> dict:
    import openvino as ov

    core = ov.Core()
    check_device(core, device)
    model = core.read_model(xml)
    config = {"PERF_COUNT": "YES", "PERFORMANCE_HINT": "LATENCY"}
    if precision != "default":
        config["INFERENCE_PRECISION_HINT"] = precision
    compiled = core.compile_model(model, device, config)
    request = compiled.create_infer_request()
    shape = [d.get_length() for d in model.input(0).get_partial_shape()]
    request.set_input_tensor(ov.Tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32)))
    for _ in range(warmup):
        request.infer()
    totals: dict[str, float] = defaultdict(float)
    meta: dict[str, tuple[str, str]] = {}
    for _ in range(iterations):
        request.infer()
        for info in request.get_profiling_info():
            if str(info.status).endswith("EXECUTED") and not str(info.status).endswith("NOT_EXECUTED"):
                totals[info.node_name] += info.real_time.total_seconds() * 1e3
                meta[info.node_name] = (info.node_type, info.exec_type)
    origins = _original_names(compiled)
    quantized, reasons = _quantization(model)
    layers = []
    for name, total in totals.items():
        node_type, kernel = meta[name]
        covers = origins.get(name, [name])
        layers.append(
            {
                "name": name,
                "type": node_type,
                "kernel": kernel,
                "precision": kernel_precision(kernel),
                "ms": total / iterations,
                "covers": covers,
                "float_reason": next((reasons[c] for c in covers if c in reasons), None),
            }
        )
    layers.sort(key=lambda layer: -layer["ms"])
    total_ms = sum(layer["ms"] for layer in layers) or 1e-12
    return {
        "xml": str(xml),
        "device": device,
        "precision_requested": precision,
        "inference_precision": read_property(compiled, "INFERENCE_PRECISION_HINT"),
        "iterations": iterations,
        "total_ms": total_ms,
        "by_type": _share(layers, "type", total_ms),
        "by_precision": _share(layers, "precision", total_ms),
        "int8_share": sum(layer["ms"] for layer in layers if layer["precision"] == "i8") / total_ms,
        "quantized_ops": len(quantized),
        "float_compute": [{"name": name, "reason": reason} for name, reason in sorted(reasons.items())],
        "layers": layers,
    }


def _share(layers: list[dict], key: str, total_ms: float) -> list[dict]:
    groups: dict[str, list[float]] = defaultdict(list)
    for layer in layers:
        groups[layer[key] or "other"].append(layer["ms"])
    rows = [{key: k, "layers": len(v), "ms": sum(v), "share": sum(v) / total_ms} for k, v in groups.items()]
    return sorted(rows, key=lambda row: -row["ms"])


def _original_names(compiled) -> dict[str, list[str]]:
    """Executed node -> the IR operations fused into it."""
    out = {}
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        names = info["originalLayersNames"].astype(str) if "originalLayersNames" in info else op.get_friendly_name()
        out[op.get_friendly_name()] = [n for n in names.split(",") if n]
    return out


def _quantization(model) -> tuple[set[str], dict[str, str]]:
    """The IR's compute ops that take a FakeQuantize'd input, and every other one with why it stayed float."""
    quantized: set[str] = set()
    reasons: dict[str, str] = {}
    has_fq = any(op.get_type_name() == "FakeQuantize" for op in model.get_ops())
    for op in model.get_ordered_ops():
        if op.get_type_name() not in COMPUTE:
            continue
        name = op.get_friendly_name()
        if any(_through(op.input_value(i).get_node(), "FakeQuantize") for i in range(op.get_input_size())):
            quantized.add(name)
        elif not has_fq:
            reasons[name] = "not quantized: the model has no INT8 quantizers (a float variant)"
        elif _in_squeeze_excite(op):
            reasons[name] = "squeeze-excite block: NNCF's built-in SE ignored pattern keeps it in float"
        else:
            reasons[name] = "kept in float by the quantizer (ignored scope, or reverted by accuracy control)"
    return quantized, reasons


def _through(node, wanted: str, depth: int = 4) -> bool:
    """``node`` is ``wanted``, or reaches it through layout/convert ops (Reshape, Convert, Transpose...)."""
    for _ in range(depth):
        if node.get_type_name() == wanted:
            return True
        if node.get_type_name() not in ("Reshape", "Convert", "Transpose", "Squeeze", "Unsqueeze"):
            return False
        node = node.input_value(0).get_node()
    return False


def _in_squeeze_excite(op) -> bool:
    """A convolution fed (through an activation) by a global pooling, or feeding a (hard) sigmoid gate."""
    node = op.input_value(0).get_node()
    for _ in range(3):
        if node.get_type_name() in ("ReduceMean", "AvgPool", "AdaptiveAvgPool"):
            return True
        if node.get_input_size() == 0:
            break
        node = node.input_value(0).get_node()
    frontier = [t.get_node() for out in op.outputs() for t in out.get_target_inputs()]
    for _ in range(3):
        if any(n.get_type_name() in _SE_AFTER for n in frontier):
            return True
        frontier = [t.get_node() for n in frontier for out in n.outputs() for t in out.get_target_inputs()]
    return False
