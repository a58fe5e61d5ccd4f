"""Instance segmentation architectures: torchvision's Mask R-CNN on a ResNet-18 FPN (plain convolutions and ReLU,
the INT8-friendly choice) and on a MobileNetV3-Large FPN, built from torchvision parts.

What is converted is the whole detector on a fixed input: backbone, FPN, RPN with its NMS, RoIAlign, box head with
its NMS and the mask head. The IR's outputs are those Model API's ``MaskRCNN`` wrapper reads: ``boxes`` [N, 5]
(x1 y1 x2 y2 score in input pixels), ``labels`` [N] (0-based) and ``masks`` [N, 28, 28] (per-box mask
probabilities, pasted into the image by the reader). NNCF quantizes the convolutions and linear layers; RoIAlign,
NMS and the box decoding have no weights and stay in float.

Class 0 of the network is background; the dataset's classes are 1..C inside the model and 0..C-1 outside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from unittest import mock

import torch
from torch import nn
from torchvision import models as tvm
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import mobilenet_backbone, resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import MultiScaleRoIAlign, nms
from torchvision.ops import boxes as box_ops
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

from engine.errors import choice_error
from engine.models.weights import WeightsStatus, backbone_status, cached_or_none, tune_for_scratch

SCORE_THRESHOLD = 0.05  # what the IR and PyTorch keep (mAP uses them all; drawing starts at SHOW_THRESHOLD)
NMS_IOU = 0.5
MAX_DETECTIONS = 50
RPN_TOP_N = 300  # proposals kept after the RPN's NMS at inference (torchvision: 1000; the sample has <= 6 objects)
CHANNELS = 128  # FPN and mask head width (torchvision: 256); the box head's MLP is 2 x 256 (torchvision: 1024)
# RoIs sampled per training image for the box head, a quarter of them positives for the mask head (torchvision:
# 512). The heads, not the backbone, cost a training step here: at 128 px, 4 images, one thread, 64 RoIs took
# 0.90 s a step, 32 took 0.56 s (backbone + FPN 0.20 s), and the tests' sample trained to a higher val mask
# mAP@0.5 in 10 epochs (0.52 against 0.46).
ROIS_PER_IMAGE = 32

# The sample (160 training images) from random init: val mask mAP@0.5 0.375 in 11.7 min on an AVX2-only 2-core
# EPYC with 64 RoIs; 0.446 in 200 s on a 2-core AVX-512 EPYC with 32. AdamW peaks above 1e-3 stall at a flat
# loss (2e-3 stayed at ~2.0 for 10 epochs; 5e-3 and 1e-2 diverged).
TRAIN_DEFAULTS = {"epochs": 8, "batch_size": 4, "img_size": 192, "lr": 1e-3}


@dataclass(frozen=True)
class MaskArch:
    builder: Callable[[object | None], nn.Module]  # backbone weights -> backbone with an FPN
    summary: str
    backbone_weights: object
    anchor_sizes: tuple[int, ...]  # one base size per FPN output, the pooled level last
    levels: tuple[str, ...]  # the FPN outputs RoIAlign reads (the pooled level only feeds the RPN)


class _NoResize(GeneralizedRCNNTransform):
    """Inputs arrive resized and normalised by the shared pre-processing; the detector must not redo it."""

    def __init__(self) -> None:
        super().__init__(1, 1, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], size_divisible=32)

    def resize(self, image, target=None):
        return image, target


def _resnet18_fpn(weights: object | None) -> nn.Module:
    backbone = resnet_fpn_backbone(
        backbone_name="resnet18",
        weights=weights,
        norm_layer=nn.BatchNorm2d,  # trainable BatchNorm: from random init frozen statistics would be noise
        trainable_layers=5,
        returned_layers=[2, 3, 4],  # P3-P5 (+ P6 pooled): no stride-4 level, the costliest and for tiny objects
    )
    backbone.fpn = FeaturePyramidNetwork([128, 256, 512], CHANNELS, extra_blocks=LastLevelMaxPool())
    backbone.out_channels = CHANNELS
    return backbone


def _mobilenet_fpn(weights: object | None) -> nn.Module:
    backbone = mobilenet_backbone(
        backbone_name="mobilenet_v3_large",
        weights=weights,
        fpn=True,
        norm_layer=partial(nn.BatchNorm2d, eps=0.001),
        trainable_layers=6,
    )
    backbone.fpn = FeaturePyramidNetwork([160, 960], CHANNELS, extra_blocks=LastLevelMaxPool())
    backbone.out_channels = CHANNELS
    return backbone


ARCHS: dict[str, MaskArch] = {
    "maskrcnn_resnet18_fpn": MaskArch(
        _resnet18_fpn,
        "Mask R-CNN on a ResNet-18 FPN (P3-P6), INT8-friendly",
        tvm.ResNet18_Weights.IMAGENET1K_V1,
        (32, 64, 128, 256),
        ("0", "1", "2"),
    ),
    "maskrcnn_mobilenet_v3_large_fpn": MaskArch(
        _mobilenet_fpn,
        "Mask R-CNN on a MobileNetV3-Large FPN",
        tvm.MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        (32, 96, 256),
        ("0", "1"),
    ),
}


def build_model(arch: str, num_classes: int, pretrained: bool = True) -> tuple[nn.Module, WeightsStatus]:
    """``arch`` for ``num_classes`` object classes (+1 background inside the network)."""
    if arch not in ARCHS:
        raise choice_error("instance segmentation model", arch, list(ARCHS))
    spec = ARCHS[arch]
    weights = cached_or_none(spec.backbone_weights) if pretrained else None
    model = MaskRCNN(
        spec.builder(weights),
        None,  # the heads below are sized for CHANNELS
        rpn_pre_nms_top_n_train=1000,
        rpn_post_nms_top_n_train=500,
        rpn_pre_nms_top_n_test=RPN_TOP_N,
        rpn_post_nms_top_n_test=RPN_TOP_N,
        box_score_thresh=SCORE_THRESHOLD,
        box_nms_thresh=NMS_IOU,
        box_detections_per_img=MAX_DETECTIONS,
        box_batch_size_per_image=ROIS_PER_IMAGE,
        rpn_anchor_generator=AnchorGenerator(
            tuple((s, int(s * 1.41)) for s in spec.anchor_sizes), ((0.5, 1.0, 2.0),) * len(spec.anchor_sizes)
        ),
        box_roi_pool=MultiScaleRoIAlign(list(spec.levels), 7, 2),
        mask_roi_pool=MultiScaleRoIAlign(list(spec.levels), 14, 2),
        box_head=TwoMLPHead(CHANNELS * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, num_classes + 1),
        mask_head=MaskRCNNHeads(CHANNELS, (CHANNELS,) * 2, 1),  # torchvision: 4 x 256
        mask_predictor=MaskRCNNPredictor(CHANNELS, CHANNELS, num_classes + 1),
    )
    model.transform = _NoResize()
    model.arch_name = arch
    status = backbone_status(weights, pretrained, spec.backbone_weights)
    if not status.pretrained:
        tune_for_scratch(model)
    return model, status


class InstanceNetwork(nn.Module):
    """What is converted: one image in, Model API's ``boxes`` [N, 5], ``labels`` [N] (0-based), ``masks``
    [N, 28, 28] out (the per-box masks before they are pasted into the image)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # torchvision's batched NMS is a TorchScript function when traced: the IR would hold it as an ``If``,
        # which NNCF's post-training quantization cannot calibrate through. The same NMS, traced op by op:
        with mock.patch.object(box_ops, "batched_nms", _traceable_batched_nms):
            (det,) = detect(self.model, images)
        return torch.cat([det["boxes"], det["scores"][:, None]], dim=1), det["labels"], det["masks"]


def _traceable_batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou: float) -> torch.Tensor:
    """torchvision's per-class NMS (boxes of each class offset apart, then one NMS) without its empty-input branch:
    the offset is computed so that no boxes gives no indices."""
    top = torch.cat([boxes.reshape(-1), boxes.new_zeros(1)]).max()
    offsets = idxs.to(boxes) * (top + 1)
    return nms(boxes + offsets[:, None], scores, iou)


def detect(model: nn.Module, images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Per image: ``boxes``, ``scores``, ``labels`` (0-based) and ``masks`` [N, 28, 28] (not pasted)."""
    features = model.backbone(images)
    image_list = ImageList(images, [tuple(images.shape[-2:])] * len(images))
    proposals, _ = model.rpn(image_list, features)
    detections, _ = model.roi_heads(features, proposals, image_list.image_sizes)
    return [{**d, "labels": d["labels"] - 1, "masks": d["masks"][:, 0]} for d in detections]
