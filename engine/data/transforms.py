"""The tail every training and evaluation transform shares: uint8 image -> normalised float, targets untouched."""

from __future__ import annotations

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from engine.inference.preprocess import MEAN, STD


def to_normalized_float() -> list[v2.Transform]:
    """Scale the image to [0, 1] float and normalise it; boxes, masks and labels pass through unchanged."""
    return [v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True), v2.Normalize(MEAN, STD)]
