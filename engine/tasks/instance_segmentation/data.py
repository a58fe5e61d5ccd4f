"""Instance masks as targets: kept as COCO RLE (a split is never held decoded), decoded and resized per image,
carried with their boxes through v2 augmentation."""

from __future__ import annotations

import numpy as np
import torch
from pycocotools import mask as coco_mask
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from engine.data.images import read_rgb
from engine.data.transforms import to_normalized_float
from engine.inference.preprocess import MEAN, resize_u8

_FILL = {tv_tensors.Image: tuple(int(255 * m) for m in MEAN), "others": 0}


def encode(mask: np.ndarray) -> dict:
    """One (H, W) boolean mask as compact COCO RLE (counts as text, so a target stays JSON-able)."""
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def decode(rles: list[dict], hw: tuple[int, int]) -> np.ndarray:
    """RLE masks -> (N, H, W) booleans."""
    if not rles:
        return np.zeros((0, *hw), dtype=bool)
    coded = [{"size": r["size"], "counts": r["counts"].encode("ascii")} for r in rles]
    return np.moveaxis(coco_mask.decode(coded), -1, 0).astype(bool)


def train_transform(img_size: int) -> v2.Transform:
    """Zoom out, crop, flip and colour changes; boxes and masks follow the image, emptied instances dropped."""
    return v2.Compose(
        [
            v2.RandomPhotometricDistort(p=0.5),
            v2.RandomZoomOut(fill=_FILL, side_range=(1.0, 1.5), p=0.3),
            v2.RandomIoUCrop(sampler_options=[0.5, 0.7, 0.9, 1.0], trials=10),
            v2.RandomHorizontalFlip(),
            v2.Resize((img_size, img_size), antialias=True),
            v2.SanitizeBoundingBoxes(min_size=2),
            *to_normalized_float(),
        ]
    )


class InstanceDataset(Dataset):
    """``(path, {"boxes", "labels", "masks" (RLE), "hw"})`` -> ``(normalised CHW tensor, {"boxes": (N, 4) xyxy,
    "labels": (N,), "masks": (N, S, S) uint8})`` at the network input's size ``S``, labels 0-based."""

    def __init__(self, samples: list, img_size: int, train: bool) -> None:
        self.samples, self.img_size, self.train = samples, img_size, train
        self.transform = train_transform(img_size) if train else v2.Compose(to_normalized_float())
        self._cache: dict[int, tuple[torch.Tensor, dict]] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def resized(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if index not in self._cache:
            path, target = self.samples[index]
            rgb = read_rgb(path)
            h, w = rgb.shape[:2]
            scale = np.array([self.img_size / w, self.img_size / h] * 2, dtype=np.float32)
            masks = torch.from_numpy(decode(target["masks"], (h, w)).astype(np.uint8))
            size = [self.img_size, self.img_size]
            masks = v2.functional.resize(masks, size, interpolation=v2.InterpolationMode.NEAREST)
            self._cache[index] = (
                torch.from_numpy(resize_u8(rgb, self.img_size).copy()).permute(2, 0, 1),
                {
                    "boxes": torch.from_numpy(np.asarray(target["boxes"], np.float32).reshape(-1, 4) * scale),
                    "labels": torch.as_tensor(np.asarray(target["labels"], np.int64).reshape(-1)),
                    "masks": masks,
                },
            )
        return self._cache[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image, cached = self.resized(index)
        size = (self.img_size, self.img_size)
        target = {
            "boxes": tv_tensors.BoundingBoxes(cached["boxes"], format="XYXY", canvas_size=size),
            "labels": cached["labels"],
            "masks": tv_tensors.Mask(cached["masks"]),
        }
        if self.train and len(cached["boxes"]) == 0:  # RandomIoUCrop needs boxes; negatives are only jittered
            image, target = v2.Compose(to_normalized_float())(tv_tensors.Image(image), target)
        else:
            image, target = self.transform(tv_tensors.Image(image), target)
        return image.as_subclass(torch.Tensor), {
            "boxes": target["boxes"].as_subclass(torch.Tensor).float(),
            "labels": target["labels"],
            "masks": target["masks"].as_subclass(torch.Tensor),
        }
