"""NNCF quantization-aware training, the NNCF side: fake-quantize a torch network, save and restore it, and
strip it into an OpenVINO INT8 model.

The network is the task's ``export_module`` (for detection: backbone + head, without decoding and NMS), the
same one PTQ quantizes, so the quantizers sit exactly where the IR's INT8 operations will be.
"""

from __future__ import annotations

import logging

import nncf
import openvino as ov
import torch
from nncf.common.quantization.structs import QuantizationScheme
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
from nncf.torch import get_config, load_from_config

from engine.compression.calibration import calibration_subset
from engine.compression.ptq import overflow_fix
from engine.data.images import read_rgb
from engine.inference.preprocess import to_input
from engine.training import threads

log = logging.getLogger(__name__)

CHECKPOINT_CLASSES = (QuantizationScheme,)  # what an NNCF config holds besides plain values


def prepare(network: torch.nn.Module, samples: list, img_size: int, *, calib_size: int, seed: int) -> torch.nn.Module:
    """``network`` with NNCF fake-quantizers, their ranges calibrated on a seeded subset of ``samples``."""
    from engine.compression.nncf_extension import ensure_loaded

    ensure_loaded()  # compiled on first use, with a timeout that suits a small machine; a timeout is one line
    subset = calibration_subset(samples, calib_size, seed)
    log.info("QAT: inserting INT8 quantizers, %d calibration images", len(subset))

    def transform(sample: tuple) -> torch.Tensor:
        threads.BUDGET.adjust()  # NNCF runs the network on each image: on the cores other processes leave
        return torch.from_numpy(to_input(read_rgb(sample[0]), img_size))

    dataset = nncf.Dataset(subset, transform_func=transform)
    advanced = AdvancedQuantizationParameters(overflow_fix=overflow_fix())  # 7-bit weights on CPUs without VNNI
    return nncf.quantize(
        network.eval(),
        dataset,
        subset_size=len(subset),
        preset=nncf.QuantizationPreset.PERFORMANCE,
        advanced_parameters=advanced,
    )


def state(network: torch.nn.Module) -> dict:
    """What restores a quantized network: NNCF's quantizer layout and all weights (quantizer scales too)."""
    return {"nncf_config": get_config(network), "weights": network.state_dict()}


def restore(network: torch.nn.Module, saved: dict) -> torch.nn.Module:
    """A fresh (unquantized) ``network`` with the quantizers and weights of :func:`state`."""
    from engine.compression.nncf_extension import ensure_loaded

    ensure_loaded()
    quantized = load_from_config(network.eval(), saved["nncf_config"])
    quantized.load_state_dict(saved["weights"])
    return quantized


def to_openvino(network: torch.nn.Module, img_size: int) -> ov.Model:
    """Strip the fake-quantizers into FakeQuantize operations and convert: the saved IR holds int8 weights."""
    from engine.export.convert import convert_network

    stripped = nncf.strip(network.eval(), do_copy=True, example_input=torch.zeros(1, 3, img_size, img_size))
    return convert_network(stripped, img_size)
