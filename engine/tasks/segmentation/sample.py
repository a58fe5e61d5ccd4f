"""Deterministic generator of the built-in segmentation sample (Common Semantic Segmentation layout).

Irregular blobs filled with one of three materials (solid paint, stripes, dots), in random colours,
sizes and overlap on cluttered gradient backgrounds: a model has to learn texture and outline, not
colour. The same ``seed`` always gives the same files.

Layout written (Datumaro ``common_semantic_segmentation_with_subset_dirs``)::

    <out>/<split>/dataset_meta.json
    <out>/<split>/images/<n>.jpg
    <out>/<split>/masks/<n>.png       (colour-coded, colours listed in dataset_meta.json)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.data import canvas
from engine.drawing import colour

CLASSES = ("background", "paint", "stripes", "dots")
SPLITS = {"train": 400, "val": 50, "test": 50}


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 0
    splits: tuple[tuple[str, int], ...] = tuple(SPLITS.items())
    min_size: int = 96
    max_size: int = 160


def generate(out: str | Path, config: SampleConfig | None = None) -> dict[str, int]:
    config = config or SampleConfig()
    out = Path(out)
    meta = {
        "label_map": {str(i): name for i, name in enumerate(CLASSES)},
        "segmentation_colors": [list(colour(i)) for i in range(len(CLASSES))],
    }
    counts = {}
    for split_index, (split, n) in enumerate(config.splits):
        (out / split / "images").mkdir(parents=True, exist_ok=True)
        (out / split / "masks").mkdir(parents=True, exist_ok=True)
        (out / split / "dataset_meta.json").write_text(json.dumps(meta, indent=2))
        for i in range(n):
            rng = np.random.default_rng([config.seed, 7, split_index, i])
            image, mask = render(rng, config.min_size, config.max_size)
            image.save(out / split / "images" / f"{split}_{i:04d}.jpg", quality=95)
            palette = np.array([colour(c) for c in range(len(CLASSES))], dtype=np.uint8)
            Image.fromarray(palette[mask]).save(out / split / "masks" / f"{split}_{i:04d}.png")
        counts[split] = n
    return counts


def render(rng: np.random.Generator, min_size: int = 96, max_size: int = 160) -> tuple[Image.Image, np.ndarray]:
    """One image and its (H, W) class-index mask."""
    w, h = (int(v) for v in rng.integers(min_size, max_size + 1, size=2))
    background = canvas.background(w, h, rng)
    draw = ImageDraw.Draw(background)
    for _ in range(int(rng.integers(1, 4))):
        canvas.distractor(draw, w, h, rng)
    pixels = np.asarray(background).astype(np.float32)
    mask = np.zeros((h, w), dtype=np.uint8)
    for _ in range(int(rng.integers(1, 5))):
        cls = int(rng.integers(1, len(CLASSES)))
        region = _blob(w, h, rng)
        texture = _texture(CLASSES[cls], w, h, pixels.reshape(-1, 3).mean(0), rng)
        pixels[region] = texture[region]
        mask[region] = cls
    pixels += rng.normal(0, rng.uniform(2, 6), size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), mask


def _blob(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """An irregular closed outline: a circle whose radius wobbles with a few random harmonics."""
    r0 = float(rng.uniform(0.14, 0.3)) * min(w, h)
    cx, cy = rng.uniform(r0, w - r0), rng.uniform(r0, h - r0)
    harmonics = [(k, float(rng.uniform(0, 0.25 / k**0.5)), float(rng.uniform(0, 2 * math.pi))) for k in range(2, 6)]
    stretch = float(rng.uniform(0.7, 1.3))
    points = []
    for step in range(64):
        t = 2 * math.pi * step / 64
        r = r0 * (1 + sum(a * math.sin(k * t + p) for k, a, p in harmonics))
        points.append((cx + r * math.cos(t) * stretch, cy + r * math.sin(t) / stretch))
    canvas = Image.new("L", (w, h), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=255)
    return np.asarray(canvas) > 0


def _texture(name: str, w: int, h: int, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The material of a class, as a full (H, W, 3) float image."""
    first = np.array(canvas.contrasting_colour(mean, rng), dtype=np.float32)
    if name == "paint":
        shade = rng.uniform(0.85, 1.15, size=3).astype(np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        gradient = 1 + 0.15 * np.sin(xx / w * math.pi * rng.uniform(0.5, 2))[..., None]
        return np.clip(first * shade * gradient, 0, 255)
    second = np.array(canvas.contrasting_colour(first, rng), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = float(rng.uniform(4, 8))
    angle = float(rng.uniform(0, math.pi))
    if name == "stripes":
        phase = (xx * math.cos(angle) + yy * math.sin(angle)) / period
        on = (phase % 1) < 0.5
    elif name == "dots":
        u = (xx * math.cos(angle) + yy * math.sin(angle)) / period
        v = (-xx * math.sin(angle) + yy * math.cos(angle)) / period
        on = ((u % 1 - 0.5) ** 2 + (v % 1 - 0.5) ** 2) < 0.09
    else:
        msg = f"unknown sample material {name!r}; valid: {', '.join(CLASSES[1:])}"
        raise ValueError(msg)
    return np.where(on[..., None], second, first)
