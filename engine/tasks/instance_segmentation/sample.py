"""Deterministic generator of the built-in instance segmentation sample (COCO instances with RLE masks).

One to six filled shapes per image (circles, squares, triangles) in random colours on cluttered noisy gradient
backgrounds. Shapes may overlap: a later shape hides part of an earlier one, and every instance's mask is what
stays visible of it (an instance hidden to less than a quarter of its area is left out: it is not drawn at all).
The same ``seed`` always gives the same files.

Layout written (Datumaro ``coco_instances``)::

    <out>/annotations/instances_<split>.json
    <out>/images/<split>/<name>.jpg
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pycocotools import mask as coco_mask

from engine.data import canvas, coco_sample

CLASSES = canvas.SHAPES
SPLITS = {"train": 160, "val": 20, "test": 20}  # Mask R-CNN from random init on 2 cores: minutes, not an hour
MIN_VISIBLE = 0.25  # share of its own area an instance keeps visible, or it is not placed


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 0
    splits: tuple[tuple[str, int], ...] = tuple(SPLITS.items())
    min_size: int = 160
    max_size: int = 256
    max_objects: int = 6
    object_scale: tuple[float, float] = (0.2, 0.45)  # object size relative to the image's shorter side


def generate(out: str | Path, config: SampleConfig | None = None) -> dict[str, int]:
    config = config or SampleConfig()

    def item(rng: np.random.Generator) -> tuple[Image.Image, list[dict]]:
        image, instances = render(rng, config)
        fields = []
        for cls, visible in instances:
            rle = coco_mask.encode(np.asfortranarray(visible.astype(np.uint8)))
            segmentation = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
            bbox = [float(v) for v in coco_mask.toBbox(rle)]
            area = float(coco_mask.area(rle))
            fields.append(
                {"category_id": cls + 1, "bbox": bbox, "area": area, "iscrowd": 0, "segmentation": segmentation}
            )
        return image, fields

    return coco_sample.write(out, config.splits, CLASSES, (config.seed, 23), item)


def render(rng: np.random.Generator, config: SampleConfig) -> tuple[Image.Image, list[tuple[int, np.ndarray]]]:
    """One image and its instances as ``(class index, visible mask (H, W) bool)``, in drawing order."""
    w, h = (int(v) for v in rng.integers(config.min_size, config.max_size + 1, size=2))
    image = canvas.background(w, h, rng)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):
        canvas.distractor(draw, w, h, rng)
    instances: list[tuple[int, np.ndarray, int]] = []  # class, visible mask, the shape's whole area
    for _ in range(int(rng.integers(1, config.max_objects + 1))):
        cls = int(rng.integers(0, len(CLASSES)))
        size = float(rng.uniform(*config.object_scale)) * min(w, h)
        aspect = float(rng.uniform(0.65, 1.5))
        sx, sy = size * math.sqrt(aspect), size / math.sqrt(aspect)
        cx, cy = rng.uniform(sx / 2, w - sx / 2), rng.uniform(sy / 2, h - sy / 2)
        points = canvas.shape_outline(CLASSES[cls], cx, cy, sx, sy, float(rng.uniform(0, 2 * math.pi)))
        shape = Image.new("1", (w, h))
        ImageDraw.Draw(shape).polygon(points, fill=1)
        own = np.asarray(shape, dtype=bool)
        hidden = [(c, m & ~own, area) for c, m, area in instances]  # what the new shape leaves of those below
        if not own.any() or any(m.sum() < MIN_VISIBLE * area for _, m, area in hidden):
            continue
        fill = canvas.contrasting_colour(np.asarray(image).reshape(-1, 3).mean(0), rng)
        draw.polygon(points, fill=fill)
        instances = [*hidden, (cls, own, int(own.sum()))]
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.9))))
    arr = np.asarray(image).astype(np.float32) + rng.normal(0, rng.uniform(2, 7), size=(h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), [(c, m) for c, m, _ in instances]
