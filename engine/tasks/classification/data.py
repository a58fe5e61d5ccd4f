"""Torch datasets for classification: decoded, resized images cached in memory, v2 augmentation."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from engine.data.images import read_rgb
from engine.data.transforms import to_normalized_float
from engine.inference.preprocess import resize_u8


def train_transform(augment: str = "basic", img_size: int = 64) -> v2.Transform:
    """The training augmentation ``augment`` names (engine.choices.AUGMENT) on uint8 images of ``img_size``.

    ``trivial`` is torchvision's classification reference recipe (references/classification/presets.py):
    a random resized crop, a flip, TrivialAugmentWide on the uint8 image, then random erasing on the
    normalised tensor."""
    if augment == "trivial":
        return v2.Compose(
            [
                v2.RandomResizedCrop(img_size, scale=(0.5, 1.0), antialias=True),
                v2.RandomHorizontalFlip(),
                v2.TrivialAugmentWide(),
                *to_normalized_float(),
                v2.RandomErasing(p=0.1),
            ]
        )
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3),
            *to_normalized_float(),
        ]
    )


def eval_transform() -> v2.Transform:
    return v2.Compose(to_normalized_float())


class ClassificationDataset(Dataset):
    """``(path, class index)`` samples -> ``(normalised CHW float tensor, class index)``.

    Images are resized once with the shared pre-processing and kept as uint8 tensors, so an epoch costs
    augmentation and compute, not JPEG/PNG decoding.
    """

    def __init__(self, samples: list[tuple[str, int]], img_size: int, train: bool, augment: str = "basic") -> None:
        self.samples = samples
        self.img_size = img_size
        self.transform = train_transform(augment, img_size) if train else eval_transform()
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def image(self, index: int) -> torch.Tensor:
        if index not in self._cache:
            rgb = resize_u8(read_rgb(self.samples[index][0]), self.img_size)
            self._cache[index] = torch.from_numpy(rgb.copy()).permute(2, 0, 1)
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(v2.functional.to_image(self.image(index))), int(self.samples[index][1])

    @property
    def targets(self) -> list[int]:
        return [int(t) for _, t in self.samples]
