"""Classification architectures: torchvision builders, their heads and their ImageNet weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torchvision import models as tvm

from engine.errors import choice_error
from engine.models.weights import WeightsStatus, load_cached_state, tune_for_scratch


@dataclass(frozen=True)
class ClassifierArch:
    builder: Callable[..., nn.Module]
    weights: object
    head_path: str  # dotted path of the final Linear layer, replaced for the user's classes
    summary: str


ARCHS: dict[str, ClassifierArch] = {
    "mobilenet_v3_small": ClassifierArch(
        tvm.mobilenet_v3_small, tvm.MobileNet_V3_Small_Weights.IMAGENET1K_V1, "classifier.3", "2.5M params"
    ),
    "mobilenet_v3_large": ClassifierArch(
        tvm.mobilenet_v3_large, tvm.MobileNet_V3_Large_Weights.IMAGENET1K_V2, "classifier.3", "5.5M params"
    ),
    "efficientnet_b0": ClassifierArch(
        tvm.efficientnet_b0, tvm.EfficientNet_B0_Weights.IMAGENET1K_V1, "classifier.1", "5.3M params"
    ),
    # INT8-friendly: no squeeze-excite, no hard-swish; INT8 runs 1.7-2x the CPU's default precision on
    # VNNI/AMX CPUs (benchmarks/zoo.py measures it on yours)
    "mobilenet_v2": ClassifierArch(
        tvm.mobilenet_v2, tvm.MobileNet_V2_Weights.IMAGENET1K_V2, "classifier.1", "3.5M params, INT8-friendly"
    ),
    "regnet_x_400mf": ClassifierArch(
        tvm.regnet_x_400mf, tvm.RegNet_X_400MF_Weights.IMAGENET1K_V2, "fc", "5.5M params, INT8-friendly"
    ),
    "regnet_x_800mf": ClassifierArch(
        tvm.regnet_x_800mf, tvm.RegNet_X_800MF_Weights.IMAGENET1K_V2, "fc", "7.3M params, INT8-friendly"
    ),
    "resnet18": ClassifierArch(tvm.resnet18, tvm.ResNet18_Weights.IMAGENET1K_V1, "fc", "11.7M params, INT8-friendly"),
    "resnet50": ClassifierArch(tvm.resnet50, tvm.ResNet50_Weights.IMAGENET1K_V2, "fc", "25.6M params, INT8-friendly"),
}


def build_model(arch: str, num_classes: int, pretrained: bool = True) -> tuple[nn.Module, WeightsStatus]:
    """Build ``arch`` with a ``num_classes`` head; ImageNet weights when cached and ``pretrained``."""
    if arch not in ARCHS:
        raise choice_error("classification model", arch, list(ARCHS))
    spec = ARCHS[arch]
    model = spec.builder(weights=None)
    if pretrained:
        state, status = load_cached_state(spec.weights)
        if state is not None:
            model.load_state_dict(state)
    else:
        status = WeightsStatus(False, "pretrained weights not requested: training starts from random init")
    parent_path, _, leaf = spec.head_path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    old = getattr(parent, leaf)
    setattr(parent, leaf, nn.Linear(old.in_features, num_classes))
    if not status.pretrained:
        tune_for_scratch(model)
    return model, status
