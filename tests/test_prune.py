"""Structured pruning (Torch-Pruning) of every architecture: fewer MACs, same outputs, still trains and converts."""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest
import torch

from engine.compression.prune import count, prune
from engine.errors import StudioError
from engine.export import convert
from engine.tasks import TASKS, get_task

pytestmark = pytest.mark.e2e  # eight architectures traced and pruned: ~25 s
LABELS = ["a", "b", "c"]
# every architecture of every task that prunes (instance segmentation refuses it: test_instance_segmentation.py)
PRUNED = [spec for spec in TASKS.values() if "pruned" not in spec.unsupported_variants]
CASES = [(spec.name, arch) for spec in PRUNED for arch in spec.archs]


@pytest.mark.parametrize(("task", "arch"), CASES)
def test_pruning_removes_channels_and_keeps_the_outputs(task, arch):
    spec, ratio = get_task(task), 0.5
    size = spec.smallest_size
    torch.manual_seed(0)
    model, _ = spec.build_model(arch, len(LABELS), pretrained=False)
    network, example = spec.export_module(model), torch.randn(1, 3, size, size)
    before = [o.shape for o in _outputs(network, example)]
    norms = {name: m.num_channels for name, m in network.named_modules() if isinstance(m, torch.nn.GroupNorm)}
    report = prune(network, example, ratio=ratio, steps=2, keep=spec.output_layers(model))
    for name, m in network.named_modules():  # grouped channels (RetinaNet-ResNet18's head) are pruned too
        if isinstance(m, torch.nn.GroupNorm):
            assert m.num_channels <= (1 - ratio) * norms[name] and m.num_channels % 8 == 0, (name, m)
    assert report.macs_after <= (1 - ratio) * 1.1 * report.macs_before, report
    assert report.params_after < report.params_before
    assert (report.macs_after, report.params_after) == count(network, example)
    assert [o.shape for o in _outputs(network, example)] == before  # classes, anchors, mask layout unchanged

    model.train()  # the pruned model still learns
    loss = spec.train_loss(model, *_batch(task, size))
    loss.backward()
    assert torch.isfinite(loss)

    ir = convert.finish(convert.to_openvino(model.eval(), size, spec), spec, model, size, LABELS)
    outputs = ov.Core().compile_model(ir, "CPU")(np.zeros((1, 3, size, size), np.float32))
    assert len(outputs) == len(spec.output_names)


def test_bad_settings_are_refused():
    spec = get_task("classification")
    model, _ = spec.build_model("mobilenet_v3_small", 3, pretrained=False)
    example = torch.zeros(1, 3, 32, 32)
    with pytest.raises(StudioError, match="--prune-ratio must be between 0 and 1"):
        prune(model, example, ratio=1.0, keep=spec.output_layers(model))
    with pytest.raises(StudioError, match="unknown pruning importance 'biggest'; valid: l1, l2, bn, fpgm"):
        prune(model, example, ratio=0.3, importance="biggest", keep=spec.output_layers(model))


def _outputs(network, example):
    with torch.no_grad():
        out = network.eval()(example)
    return out if isinstance(out, tuple | list) else [out]


def _batch(task: str, size: int):
    images = torch.randn(2, 3, size, size)
    if task == "classification":
        return images, torch.tensor([0, 2])
    if task == "detection":
        box = torch.tensor([[10.0, 10.0, 60.0, 70.0]])
        return images, [{"boxes": box, "labels": torch.tensor([1])}, {"boxes": box + 20, "labels": torch.tensor([0])}]
    return images, torch.randint(0, len(LABELS), (2, size, size))
