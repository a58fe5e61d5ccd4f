"""Deterministic generator of the built-in classification sample (ImageNet folder layout).

Four shape classes drawn on cluttered, noisy, gradient backgrounds at varied size, position, rotation
and colour, so a model has to learn shape rather than colour or position. The same ``seed`` always
gives the same files.

Layout written::

    <out>/{train,val,test}/<class>/<class>_<n>.png
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from engine.data import canvas

CLASSES = ("circle", "cross", "square", "triangle")
SPLITS = {"train": 600, "val": 50, "test": 50}  # images per class


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 0
    per_class: tuple[tuple[str, int], ...] = tuple(SPLITS.items())
    min_size: int = 64
    max_size: int = 96


def generate(out: str | Path, config: SampleConfig | None = None) -> dict[str, int]:
    """Write the sample dataset to ``out``; return the number of images per split."""
    config = config or SampleConfig()
    out = Path(out)
    counts: dict[str, int] = {}
    for split_index, (split, n) in enumerate(config.per_class):
        for class_index, name in enumerate(CLASSES):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                rng = np.random.default_rng([config.seed, split_index, class_index, i])
                image = render(name, rng, config.min_size, config.max_size)
                image.save(folder / f"{name}_{i:04d}.png", optimize=False)
            counts[split] = counts.get(split, 0) + n
    return counts


def render(shape: str, rng: np.random.Generator, min_size: int = 64, max_size: int = 96) -> Image.Image:
    """Draw one image of ``shape`` on a random cluttered background."""
    w, h = (int(v) for v in rng.integers(min_size, max_size + 1, size=2))
    image = canvas.background(w, h, rng)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(0, 3))):  # clutter: lines and dots that are not the class shape
        canvas.distractor(draw, w, h, rng)
    colour = canvas.contrasting_colour(np.asarray(image).reshape(-1, 3).mean(0), rng)
    size = float(rng.uniform(0.55, 0.9)) * min(w, h)
    cx = float(rng.uniform(size / 2 + 1, w - size / 2 - 1))
    cy = float(rng.uniform(size / 2 + 1, h - size / 2 - 1))
    angle = float(rng.uniform(0, 2 * math.pi))
    for polygon in _shape_polygons(shape, cx, cy, size, angle):
        draw.polygon(polygon, fill=colour)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.9))))
    arr = np.asarray(image).astype(np.float32)
    arr += rng.normal(0, rng.uniform(2, 8), size=arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _shape_polygons(shape: str, cx: float, cy: float, size: float, angle: float) -> list[list]:
    r = size / 2
    if shape == "circle":
        n = 48
        return [[(cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)) for k in range(n)]]
    if shape == "square":
        side = r * 0.8
        return [canvas.rotate([(-side, -side), (side, -side), (side, side), (-side, side)], cx, cy, angle)]
    if shape == "triangle":
        return [canvas.rotate([(r * math.cos(a), r * math.sin(a)) for a in (0, 2.0944, 4.1888)], cx, cy, angle)]
    if shape == "cross":
        t = r * 0.3
        arms = [[(-r, -t), (r, -t), (r, t), (-r, t)], [(-t, -r), (t, -r), (t, r), (-t, r)]]
        return [canvas.rotate(arm, cx, cy, angle) for arm in arms]
    msg = f"unknown sample shape {shape!r}; valid: {', '.join(CLASSES)}"
    raise ValueError(msg)
