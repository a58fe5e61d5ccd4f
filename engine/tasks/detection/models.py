"""Object detection architectures: torchvision SSDLite320-MobileNetV3-Large, RetinaNet on a MobileNetV3-Large
FPN and RetinaNet on a ResNet-18 FPN (the INT8-friendly one).

Both are dense anchor-based detectors: a backbone + head produce per-anchor class logits and box deltas,
then box decoding and NMS make the detections. That split is what the IR keeps (the network is
quantized, decoding/NMS appended in float), so each architecture also names its decoding constants.

Class 0 of the network is background; the dataset's classes are 1..C inside the model and 0..C-1 outside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torchvision import models as tvm
from torchvision.models.detection import RetinaNet, ssdlite320_mobilenet_v3_large
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import mobilenet_backbone, resnet_fpn_backbone
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import box_iou
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

from engine.errors import choice_error
from engine.models.weights import WeightsStatus, backbone_status, cached_or_none, tune_for_scratch

# What the detectors keep: the IR's NMS uses the same numbers (engine.export.detection_postprocess).
SCORE_THRESHOLD = 0.02
NMS_IOU = 0.5
TOPK_PER_CLASS = 200
MAX_DETECTIONS = 100

# Reaches the sample's mAP@0.5 goal from random init on 2 cores (see README for the learning curve).
TRAIN_DEFAULTS = {"epochs": 9, "batch_size": 8, "img_size": 192, "lr": 3e-3}
# What an architecture trains best with where it differs from the task's defaults (measured on the sample at
# 320 px from random init, 4 epochs: the ResNet-18 RetinaNet's GroupNorm head reaches 21 % mAP@0.5 at 2e-3;
# without the norm it stalled at 3e-3 and reached 8 % in 10 epochs at 5e-4).
ARCH_TRAIN_DEFAULTS = {"retinanet_resnet18_fpn": {"lr": 2e-3}}


@dataclass(frozen=True)
class DetectorArch:
    builder: Callable[[int, object | None], nn.Module]  # (num_classes incl. background, backbone weights)
    scores: str  # "softmax" (class 0 = background) | "sigmoid"
    box_weights: tuple[float, float, float, float]  # torchvision BoxCoder weights
    summary: str
    backbone_weights: object = tvm.MobileNet_V3_Large_Weights.IMAGENET1K_V1  # ImageNet weights of the backbone


class _NoResize(GeneralizedRCNNTransform):
    """Inputs arrive resized and normalised by the shared pre-processing; the detector must not redo it."""

    def __init__(self) -> None:
        super().__init__(1, 1, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], size_divisible=1)

    def resize(self, image, target=None):
        return image, target


def _ssdlite(num_classes: int, backbone_weights: object | None) -> nn.Module:
    return ssdlite320_mobilenet_v3_large(
        weights=None,
        weights_backbone=backbone_weights,
        num_classes=num_classes,
        score_thresh=SCORE_THRESHOLD,
        nms_thresh=NMS_IOU,
        topk_candidates=TOPK_PER_CLASS,
        detections_per_img=MAX_DETECTIONS,
    )


def _retinanet(num_classes: int, backbone_weights: object | None) -> nn.Module:
    backbone = mobilenet_backbone(
        backbone_name="mobilenet_v3_large",
        weights=backbone_weights,
        fpn=True,
        norm_layer=partial(nn.BatchNorm2d, eps=0.001),
        trainable_layers=6,
        extra_blocks=LastLevelP6P7(256, 256),
    )
    return _retinanet_head(backbone, num_classes, (16, 32, 64, 128))


def _retinanet_resnet18(num_classes: int, backbone_weights: object | None) -> nn.Module:
    """RetinaNet on a ResNet-18 FPN (P3-P7, 128 channels): plain 3x3 convs and ReLU end to end, which INT8
    runs ~1.7-1.9x faster than the CPU's BF16 default (the MobileNetV3 FPN's hard-swish and SE gain ~1.0x)."""
    backbone = resnet_fpn_backbone(
        backbone_name="resnet18",
        weights=backbone_weights,
        norm_layer=nn.BatchNorm2d,  # trainable BatchNorm: from random init frozen statistics would be noise
        trainable_layers=5,
        returned_layers=[2, 3, 4],
        extra_blocks=LastLevelP6P7(128, 128),
    )
    backbone.fpn = FeaturePyramidNetwork([128, 256, 512], 128, extra_blocks=LastLevelP6P7(128, 128))
    backbone.out_channels = 128
    model = _retinanet_head(backbone, num_classes, (16, 32, 64, 128, 256))  # P3-P7
    # GroupNorm in the head's conv towers (as torchvision's RetinaNet v2): the plain head shared by five
    # levels does not learn from random init at the default lr; GN costs INT8 ~8 % (1.88x -> 1.72x at 320 px)
    anchors = model.anchor_generator.num_anchors_per_location()[0]
    model.head = RetinaNetHead(128, anchors, num_classes, norm_layer=partial(nn.GroupNorm, 32))
    return model


def _retinanet_head(backbone: nn.Module, num_classes: int, base_sizes: tuple[int, ...]) -> nn.Module:
    """RetinaNet over ``backbone``'s feature maps, one anchor base size per map (3 scales x 3 ratios)."""
    anchors = AnchorGenerator(
        sizes=tuple((s, int(s * 1.26), int(s * 1.59)) for s in base_sizes),
        aspect_ratios=((0.5, 1.0, 2.0),) * len(base_sizes),
    )
    return RetinaNet(
        backbone,
        num_classes,
        anchor_generator=anchors,
        score_thresh=SCORE_THRESHOLD,
        nms_thresh=NMS_IOU,
        topk_candidates=TOPK_PER_CLASS,
        detections_per_img=MAX_DETECTIONS,
    )


ARCHS: dict[str, DetectorArch] = {
    "ssdlite320_mobilenet_v3_large": DetectorArch(
        _ssdlite, "softmax", (10.0, 10.0, 5.0, 5.0), "3.4M params, SSDLite head on MobileNetV3-Large"
    ),
    "retinanet_mobilenet_v3_large_fpn": DetectorArch(
        _retinanet, "sigmoid", (1.0, 1.0, 1.0, 1.0), "RetinaNet head on a MobileNetV3-Large FPN (focal loss)"
    ),
    "retinanet_resnet18_fpn": DetectorArch(
        _retinanet_resnet18,
        "sigmoid",
        (1.0, 1.0, 1.0, 1.0),
        "RetinaNet head on a ResNet-18 FPN, INT8-friendly",
        tvm.ResNet18_Weights.IMAGENET1K_V1,
    ),
}


def build_model(arch: str, num_classes: int, pretrained: bool = True) -> tuple[nn.Module, WeightsStatus]:
    """``arch`` for ``num_classes`` object classes (+1 background inside the network)."""
    if arch not in ARCHS:
        raise choice_error("detection model", arch, list(ARCHS))
    weights = cached_or_none(ARCHS[arch].backbone_weights) if pretrained else None
    model = ARCHS[arch].builder(num_classes + 1, weights)
    model.transform = _NoResize()
    model.arch_name = arch
    status = backbone_status(weights, pretrained, ARCHS[arch].backbone_weights)
    if not status.pretrained:
        tune_for_scratch(model)
    return model, status


def arch_of(model: nn.Module) -> DetectorArch:
    return ARCHS[model.arch_name]


def head_outputs(model: nn.Module, images: torch.Tensor) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    """Backbone + head on a normalised batch: feature maps and per-anchor ``cls_logits``/``bbox_regression``."""
    features = model.backbone(images)
    features = list(features.values()) if isinstance(features, dict) else [features]
    return features, model.head(features)


def anchors_for(model: nn.Module, images: torch.Tensor, features: list[torch.Tensor]) -> list[torch.Tensor]:
    image_list = ImageList(images, [tuple(images.shape[-2:])] * len(images))
    return model.anchor_generator(image_list, features)


def detect(model: nn.Module, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Final detections with torchvision's own decoding and NMS (the PyTorch reference of the IR)."""
    features, head = head_outputs(model, images)
    return postprocess(model, images, features, head)


def decode_raw(model: nn.Module, cls_logits: torch.Tensor, bbox_regression: torch.Tensor, img_size: int) -> list[dict]:
    """torchvision's decoding + NMS applied to the raw outputs of a (quantized) network IR."""
    images = torch.zeros(1, 3, img_size, img_size)
    features, _ = head_outputs(model.eval(), images)  # only the feature-map shapes matter here
    return postprocess(model, images, features, {"cls_logits": cls_logits, "bbox_regression": bbox_regression})


def _anchors(model: nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """The anchors of a batch of ``images`` (computed once per input size: they depend only on the shape)."""
    cache = model.__dict__.setdefault("_anchor_cache", {})
    key = tuple(images.shape[-2:])
    if key not in cache:
        was_training = model.training
        with torch.no_grad():
            one = images[:1].detach()
            features, _ = head_outputs(model.eval(), one)
            cache[key] = anchors_for(model, one, features)[0]
        model.train(was_training)
    return [cache[key]] * len(images)


def network_loss(model: nn.Module, network: nn.Module, images: torch.Tensor, targets: list[dict]) -> torch.Tensor:
    """torchvision's training losses (classification + box regression) from ``network``'s raw outputs, so a
    quantized copy of :class:`DetectorNetwork` trains like the detector (targets: background is class 0)."""
    cls_logits, bbox_regression = network(images)
    head = {"cls_logits": cls_logits, "bbox_regression": bbox_regression}
    anchors = _anchors(model, images)
    if isinstance(model, RetinaNet):
        return sum(model.compute_loss(targets, head, anchors).values())
    matched = [
        model.proposal_matcher(box_iou(t["boxes"], a))
        if t["boxes"].numel()
        else torch.full((a.size(0),), -1, dtype=torch.int64)
        for a, t in zip(anchors, targets, strict=True)
    ]
    return sum(model.compute_loss(targets, head, anchors, matched).values())


def postprocess(model: nn.Module, images: torch.Tensor, features: list, head: dict) -> list[dict[str, torch.Tensor]]:
    anchors = anchors_for(model, images, features)
    sizes = [tuple(images.shape[-2:])] * len(images)
    if isinstance(model, RetinaNet):
        per_level = [f.size(2) * f.size(3) for f in features]
        per_anchor = head["cls_logits"].size(1) // sum(per_level)
        per_level = [n * per_anchor for n in per_level]
        split_head = {k: list(v.split(per_level, dim=1)) for k, v in head.items()}
        split_anchors = [list(a.split(per_level)) for a in anchors]
        detections = model.postprocess_detections(split_head, split_anchors, sizes)
    else:
        detections = model.postprocess_detections(head, anchors, sizes)
    for det in detections:  # RetinaNet scores the background column too: it never names an object
        keep = det["labels"] > 0
        for key in ("boxes", "scores", "labels"):
            det[key] = det[key][keep]
        det["labels"] = det["labels"] - 1
    return detections


class DetectorNetwork(nn.Module):
    """What is converted (and quantized): the network up to per-anchor logits and box deltas."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, head = head_outputs(self.model, images)
        return head["cls_logits"], head["bbox_regression"]
