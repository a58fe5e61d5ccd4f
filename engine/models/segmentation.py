"""Semantic segmentation architectures: torchvision LRASPP and DeepLabV3 on a MobileNetV3-Large backbone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torchvision import models as tvm
from torchvision.models import segmentation as tvs

from engine.errors import choice_error
from engine.models.classification import tune_for_scratch
from engine.models.weights import WeightsStatus, backbone_status, cached_or_none


@dataclass(frozen=True)
class SegmenterArch:
    builder: Callable[..., nn.Module]
    summary: str


ARCHS: dict[str, SegmenterArch] = {
    "lraspp_mobilenet_v3_large": SegmenterArch(tvs.lraspp_mobilenet_v3_large, "3.2M params, lite R-ASPP head"),
    "deeplabv3_mobilenet_v3_large": SegmenterArch(tvs.deeplabv3_mobilenet_v3_large, "11M params, ASPP head"),
}

# Reaches test mIoU >= 0.7 on the built-in sample from random init in under 4 minutes on 2 cores.
TRAIN_DEFAULTS = {"epochs": 24, "batch_size": 16, "img_size": 128, "lr": 4e-3}


def build_model(arch: str, num_classes: int, pretrained: bool = True) -> tuple[nn.Module, WeightsStatus]:
    """``arch`` with ``num_classes`` output channels; the backbone gets cached ImageNet weights if asked."""
    if arch not in ARCHS:
        raise choice_error("segmentation model", arch, list(ARCHS))
    backbone = cached_or_none(tvm.MobileNet_V3_Large_Weights.IMAGENET1K_V1) if pretrained else None
    extra = {"aux_loss": False} if arch.startswith("deeplab") else {}
    model = ARCHS[arch].builder(weights=None, weights_backbone=backbone, num_classes=num_classes, **extra)
    status = backbone_status(backbone, pretrained)
    if not status.pretrained:
        tune_for_scratch(model)
    return model, status
