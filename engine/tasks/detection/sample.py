"""Deterministic generator of the built-in detection sample (COCO instances layout).

One to six objects per image from three shape classes, at varied scale and aspect, in random colours
(some filled, some outlined), partly overlapping, on cluttered noisy gradient backgrounds. The same
``seed`` always gives the same files.

Layout written (Datumaro ``coco_instances``)::

    <out>/annotations/instances_<split>.json
    <out>/images/<split>/<n>.jpg
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from engine.data import canvas, coco_sample

CLASSES = canvas.SHAPES
SPLITS = {"train": 600, "val": 60, "test": 60}
MAX_OVERLAP = 0.15  # IoU an object may share with one already placed


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 0
    splits: tuple[tuple[str, int], ...] = tuple(SPLITS.items())
    min_size: int = 128
    max_size: int = 256
    max_objects: int = 6
    object_scale: tuple[float, float] = (0.14, 0.45)  # object size relative to the image's shorter side
    outlined: float = 0.2  # share of objects drawn as outlines only


def generate(out: str | Path, config: SampleConfig | None = None) -> dict[str, int]:
    config = config or SampleConfig()

    def item(rng: np.random.Generator) -> tuple[Image.Image, list[dict]]:
        image, objects = render(rng, config)
        fields = []
        for cls, (x1, y1, x2, y2) in objects:  # boxes only: no polygons
            w, h = x2 - x1, y2 - y1
            bbox = [round(x1, 2), round(y1, 2), round(w, 2), round(h, 2)]
            fields.append(
                {"category_id": cls + 1, "bbox": bbox, "area": round(w * h, 2), "iscrowd": 0, "segmentation": []}
            )
        return image, fields

    return coco_sample.write(out, config.splits, CLASSES, (config.seed, 11), item)


def render(rng: np.random.Generator, config: SampleConfig):
    """One image and its objects as ``(class index, (x1, y1, x2, y2))``."""
    w, h = (int(v) for v in rng.integers(config.min_size, config.max_size + 1, size=2))
    image = canvas.background(w, h, rng)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 5))):
        canvas.distractor(draw, w, h, rng)
    objects: list[tuple[int, tuple[float, float, float, float]]] = []
    for _ in range(int(rng.integers(1, config.max_objects + 1))):
        for _attempt in range(20):
            cls = int(rng.integers(0, len(CLASSES)))
            size = float(rng.uniform(*config.object_scale)) * min(w, h)
            aspect = float(rng.uniform(0.65, 1.5))
            sx, sy = size * math.sqrt(aspect), size / math.sqrt(aspect)
            cx, cy = rng.uniform(sx / 2, w - sx / 2), rng.uniform(sy / 2, h - sy / 2)
            points = canvas.shape_outline(CLASSES[cls], cx, cy, sx, sy, float(rng.uniform(0, 2 * math.pi)))
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            box = (max(min(xs), 0.0), max(min(ys), 0.0), min(max(xs), float(w)), min(max(ys), float(h)))
            if all(_iou(box, other) <= MAX_OVERLAP for _, other in objects):
                break
        else:
            continue
        fill = canvas.contrasting_colour(np.asarray(image).reshape(-1, 3).mean(0), rng)
        if rng.random() < config.outlined:
            draw.polygon(points, outline=fill, width=max(2, int(size / 10)))
        else:
            draw.polygon(points, fill=fill)
        objects.append((cls, box))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.9))))
    arr = np.asarray(image).astype(np.float32) + rng.normal(0, rng.uniform(2, 7), size=(h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), objects


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
