"""Torch dataset for detection: images resized once, boxes kept aligned through v2 augmentation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from engine.data.images import read_rgb
from engine.data.transforms import to_normalized_float
from engine.inference.preprocess import MEAN, resize_u8

_FILL = {tv_tensors.Image: tuple(int(255 * m) for m in MEAN), "others": 0}


def train_transform(img_size: int) -> v2.Transform:
    """Zoom out, crop, flip and colour changes; boxes follow the image and degenerate ones are dropped."""
    return v2.Compose(
        [
            v2.RandomPhotometricDistort(p=0.5),
            v2.RandomZoomOut(fill=_FILL, side_range=(1.0, 1.8), p=0.4),
            v2.RandomIoUCrop(sampler_options=[0.3, 0.5, 0.7, 0.9, 1.0], trials=10),
            v2.RandomHorizontalFlip(),
            v2.Resize((img_size, img_size), antialias=True),
            v2.SanitizeBoundingBoxes(min_size=2),
            *to_normalized_float(),
        ]
    )


class DetectionDataset(Dataset):
    """``(path, {"boxes", "labels"})`` -> ``(normalised CHW tensor, {"boxes": (N, 4) xyxy, "labels": (N,)})``.

    Boxes are in pixels of the network input (``img_size`` square), labels 0-based.
    """

    def __init__(self, samples: list, img_size: int, train: bool) -> None:
        self.samples, self.img_size, self.train = samples, img_size, train
        self.transform = train_transform(img_size) if train else v2.Compose(to_normalized_float())
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def resized(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if index not in self._cache:
            path, target = self.samples[index]
            rgb = read_rgb(path)
            h, w = rgb.shape[:2]
            scale = np.array([self.img_size / w, self.img_size / h] * 2, dtype=np.float32)
            boxes = np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4) * scale
            image = torch.from_numpy(resize_u8(rgb, self.img_size).copy()).permute(2, 0, 1)
            labels = torch.as_tensor(np.asarray(target["labels"], dtype=np.int64).reshape(-1))
            self._cache[index] = (image, torch.from_numpy(boxes), labels)
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image, boxes, labels = self.resized(index)
        size = (self.img_size, self.img_size)
        target = {"boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=size), "labels": labels}
        if self.train and len(boxes) == 0:  # RandomIoUCrop needs boxes; negatives are only flipped/jittered
            image = v2.functional.horizontal_flip(image) if torch.rand(1).item() < 0.5 else image
            image, target = v2.Compose(to_normalized_float())(tv_tensors.Image(image), target)
        else:
            image, target = self.transform(tv_tensors.Image(image), target)
        return image.as_subclass(torch.Tensor), {
            "boxes": target["boxes"].as_subclass(torch.Tensor).float(),
            "labels": target["labels"],
        }


def collate(batch: list) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    images, targets = zip(*batch, strict=True)
    return torch.stack(images), list(targets)
