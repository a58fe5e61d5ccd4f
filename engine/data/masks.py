"""Class-index masks: built from Datumaro mask annotations, stored as references, loaded on demand.

A split of a segmentation dataset hands out :class:`MaskRef` targets instead of the masks themselves, so
a whole split is never held in memory; :func:`load_mask` rebuilds one mask from the stored dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datumaro as dm
import numpy as np

IGNORE_INDEX = 255  # pixels neither learned nor scored
BACKGROUND_NAMES = ("background", "_background_", "bg")


def background_index(labels: list[str]) -> int | None:
    """The index of the dataset's background class, when it has one."""
    names = [n.lower() for n in labels]
    return next((names.index(n) for n in BACKGROUND_NAMES if n in names), None)


def index_mask(item: dm.DatasetItem, labels: list[str]) -> np.ndarray | None:
    """One (H, W) class-index mask from the item's mask annotations (``None`` when it has no usable one).

    Pixels no mask covers are background when the dataset has a background class (VOC leaves it
    implicit), else IGNORE_INDEX (not scored, not learned)."""
    background = background_index(labels)
    uncovered = IGNORE_INDEX if background is None else background
    masks = sorted(
        (a for a in item.annotations if a.type == dm.AnnotationType.mask and a.label is not None),
        key=lambda a: a.z_order,
    )
    out = None
    for ann in masks:
        region = np.asarray(ann.image, dtype=bool)
        if out is None:
            out = np.full(region.shape, uncovered, dtype=np.uint8)
        if region.shape != out.shape or not 0 <= ann.label < min(len(labels), IGNORE_INDEX):
            return None
        out[region] = ann.label
    return out


def mask_problem(item: dm.DatasetItem, labels: list[str]) -> tuple[np.ndarray | None, tuple[str, str] | None]:
    """The item's mask, or a (kind, message) problem saying why it cannot be used."""
    if len(labels) >= IGNORE_INDEX:
        return None, ("too many classes", f"{len(labels)} classes; at most {IGNORE_INDEX - 1} are supported")
    mask = index_mask(item, labels)
    if mask is None:
        return None, ("missing mask", "image has no usable class mask (none, or one that does not fit the image)")
    size = getattr(item.media, "size", None)
    if size and tuple(size) != mask.shape:
        return None, ("mask size", f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {size[1]}x{size[0]}")
    return mask, None


@dataclass(frozen=True)
class MaskRef:
    """Where a stored item's mask lives."""

    folder: str
    subset: str
    item_id: str

    def __str__(self) -> str:
        return f"{self.subset}/{self.item_id}"


def load_mask(target: MaskRef | np.ndarray) -> np.ndarray:
    """The class-index mask of a stored item (a mask given as an array is returned as is)."""
    if not isinstance(target, MaskRef):
        return np.asarray(target)
    from engine.data.stored import load_info, stored_item

    labels = load_info(Path(target.folder))["labels"]
    mask, problem = mask_problem(stored_item(target.folder, target.subset, target.item_id), labels)
    if problem:
        msg = f"{target}: {problem[1]}"
        raise ValueError(msg)
    return mask
