"""INT8 post-training quantization of the OpenVINO model with NNCF.

Quantizing the OpenVINO FP32 model (not the torch one) stores real int8 weights in the IR: about 4x
smaller and faster than FP32 on CPU.
"""

from __future__ import annotations

import logging

import nncf
import numpy as np
import openvino as ov

from engine.data.images import read_rgb
from engine.inference.preprocess import to_input

log = logging.getLogger(__name__)


def calibration_subset(samples: list, size: int, seed: int = 0) -> list:
    """A seeded random subset of the training samples (all of them when there are fewer)."""
    if len(samples) <= size:
        return list(samples)
    rng = np.random.default_rng(seed)
    return [samples[i] for i in sorted(rng.choice(len(samples), size=size, replace=False))]


def quantize_int8(ov_model: ov.Model, samples: list, img_size: int, *, calib_size: int = 300, seed: int = 0):
    subset = calibration_subset(samples, calib_size, seed)
    log.info("quantizing to INT8 with %d calibration images", len(subset))
    dataset = nncf.Dataset(subset, transform_func=lambda s: to_input(read_rgb(s[0]), img_size))
    # Symmetric (PERFORMANCE) quantization with full bias correction: on the sample MobileNetV3 it keeps
    # 99 % agreement with FP32, where the fast correction or the MIXED preset flipped 1.5-2 % of decisions.
    return nncf.quantize(
        ov_model,
        dataset,
        subset_size=len(subset),
        preset=nncf.QuantizationPreset.PERFORMANCE,
        fast_bias_correction=False,
    )
