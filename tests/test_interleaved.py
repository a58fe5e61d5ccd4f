"""Side-by-side latency in a process apart: the numbers, the per-model settings, a refusal, and no PyTorch."""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest
from openvino import opset13 as ops

from engine.benchmark.interleaved import interleaved_latency_apart
from engine.errors import StudioError


def _ir(path, channels: int) -> str:
    """A small convolutional IR built with OpenVINO's opset (no PyTorch in the test either)."""
    x = ops.parameter([1, 3, 32, 32], np.float32, name="image")
    w = ops.constant(np.random.default_rng(0).standard_normal((channels, 3, 3, 3)).astype(np.float32))
    y = ops.relu(ops.convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1]))
    xml = str(path / f"conv{channels}.xml")
    ov.save_model(ov.Model([y], [x], f"conv{channels}"), xml)
    return xml


def test_irs_are_timed_side_by_side_in_a_process_without_pytorch(tmp_path):
    small, large = _ir(tmp_path, 4), _ir(tmp_path, 256)
    f32 = {"large": {"INFERENCE_PRECISION_HINT": "f32"}}
    # the child process asserts it never loaded torch: a regression there fails this call
    timing = interleaved_latency_apart({"small": small, "large": large}, rounds=3, iterations=20, configs=f32)
    assert set(timing) == {"small", "large"}
    for entry in timing.values():
        assert len(entry["rounds_ms"]) == 3 and entry["median_ms"] == sorted(entry["rounds_ms"])[1]
    assert timing["large"]["inference_precision"] == "f32"  # its own setting reached its compile
    assert timing["large"]["median_ms"] > timing["small"]["median_ms"]  # 64x the work


def test_a_device_that_is_not_there_is_one_line(tmp_path):
    with pytest.raises(StudioError, match=r"^device 'TPU' is not available here; available: .*CPU"):
        interleaved_latency_apart({"a": _ir(tmp_path, 4)}, "TPU", rounds=1, iterations=1)
