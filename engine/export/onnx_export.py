"""ONNX beside the IRs: the trained FP32 network as an ONNX file, for runtimes other than OpenVINO.

It is the same network the FP32 IR holds (the task's ``export_module``: logits for classification, per-pixel
class probabilities for segmentation, per-anchor class logits and box deltas for detection, whose decoding
and NMS the IR appends in OpenVINO ops and ONNX leaves to the caller), with the same static
``[1, 3, H, W]`` input named ``image``. INT8 stays an OpenVINO IR: NNCF's PTQ writes int8 weights and
FakeQuantize operations that are OpenVINO's own.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from engine.export.convert import INPUT_NAME
from engine.store.atomic import atomic_write

OPSET = 17
FORMATS = ("openvino", "onnx")  # what ``deploy --format`` writes
ONNX_VARIANTS = ("fp32", "torch-fp32")  # the FP32 weights: what an ONNX file can hold faithfully


def to_onnx(model: torch.nn.Module, task, img_size: int, path: Path) -> Path:
    """Write ``model``'s network as ONNX (static shape, opset 17) to ``path`` atomically."""
    network = task.export_module(model.eval()).eval()
    names = list(task.network_output_names or task.output_names)
    example = (torch.zeros(1, 3, img_size, img_size),)

    def write(tmp: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                network, example, str(tmp), input_names=[INPUT_NAME], output_names=names, opset_version=OPSET,
                dynamo=False,
            )  # fmt: skip

    atomic_write(path, write)
    return path
