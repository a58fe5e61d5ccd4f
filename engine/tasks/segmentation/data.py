"""Torch dataset for semantic segmentation: image and class mask resized once, augmented together (v2)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from engine.data.images import read_rgb
from engine.data.masks import load_mask
from engine.data.transforms import to_normalized_float
from engine.inference.preprocess import resize_mask, resize_u8


def train_transform(img_size: int) -> v2.Transform:
    """Geometric transforms move image and mask together; colour jitter touches the image only."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomResizedCrop(img_size, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True),
            v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05),
            *to_normalized_float(),
        ]
    )


class SegmentationDataset(Dataset):
    """``(path, mask target)`` samples -> ``(normalised CHW float tensor, (H, W) int64 class mask)``."""

    def __init__(self, samples: list, img_size: int, train: bool) -> None:
        self.samples, self.img_size = samples, img_size
        self.transform = train_transform(img_size) if train else v2.Compose(to_normalized_float())
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def pair(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index not in self._cache:
            path, target = self.samples[index]
            image = torch.from_numpy(resize_u8(read_rgb(path), self.img_size).copy()).permute(2, 0, 1)
            mask = torch.from_numpy(resize_mask(load_mask(target), self.img_size).copy())
            self._cache[index] = (image, mask)
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.pair(index)
        image, mask = self.transform(tv_tensors.Image(image), tv_tensors.Mask(mask))
        return image.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor).long()
