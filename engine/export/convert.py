"""PyTorch -> OpenVINO: static input shape, named input/output, Model API metadata, atomic save."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openvino as ov
import torch

from engine.export import model_info
from engine.tasks import Task

INPUT_NAME = "image"


def to_openvino(model: torch.nn.Module, img_size: int, task: Task) -> ov.Model:
    """Convert the task's network (``task.export_module``) with a static ``[1, 3, H, W]`` input (NPU needs
    static shapes). Detection networks stop before box decoding and NMS: see :func:`finish`."""
    return convert_network(task.export_module(model.eval()), img_size)


def convert_network(module: torch.nn.Module, img_size: int) -> ov.Model:
    """Convert a network taking one ``[1, 3, H, W]`` image (static shape, input named ``image``)."""
    example = torch.zeros(1, 3, img_size, img_size)
    with torch.no_grad():
        ov_model = ov.convert_model(module, example_input=example, input=[1, 3, img_size, img_size])
    ov_model.inputs[0].get_tensor().set_names({INPUT_NAME})
    return stable_names(ov_model)


_GENERATED = re.compile(r"^[A-Za-z]+_\d+$")  # e.g. "Multiply_11507": a counter of the converting process


def stable_names(ov_model: ov.Model) -> ov.Model:
    """Give the operations the converter named from a process-wide counter (``Multiply_11507``, different in
    every process and after every earlier conversion) a name from their place in the graph
    (``Convolution.3``: the fourth convolution), so an ignored scope written by one process (``sensitivity``)
    names the same layers in another (``optimize --ignored-scope``). Module-path names are kept."""
    counts: dict[str, int] = {}
    for op in ov_model.get_ordered_ops():
        kind = op.get_type_name()
        if kind in ("Parameter", "Result", "Constant") or not _GENERATED.match(op.get_friendly_name()):
            continue
        op.set_friendly_name(f"{kind}.{counts.setdefault(kind, 0)}")
        counts[kind] += 1
    return ov_model


def finish(ov_model: ov.Model, task: Task, model: torch.nn.Module, img_size: int, labels: list[str]) -> ov.Model:
    """Append the task's float post-processing (after any quantization), name the outputs, attach model_info."""
    ov_model = task.finish_ir(ov_model, model, img_size)
    for output, name in zip(ov_model.outputs, task.output_names, strict=True):
        output.get_tensor().set_names({name})
    model_info.attach(ov_model, task, labels)
    return ov_model


def save_ir(ov_model: ov.Model, folder: Path, *, fp16: bool) -> Path:
    """Write ``folder/model.xml`` + ``.bin`` atomically: a new folder replaces the old one whole."""
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ov.save_model(ov_model, tmp / "model.xml", compress_to_fp16=fp16)
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder / "model.xml"


def ir_size(xml: Path) -> int:
    return xml.stat().st_size + xml.with_suffix(".bin").stat().st_size
