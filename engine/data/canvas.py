"""What the built-in samples' generators share: gradient backgrounds, thin distractors, a colour that stands out
from a background, rotating a polygon, and the outline of a circle, square or triangle. Each task's own generator
lives in ``engine/tasks/<task>/sample.py``."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")  # what shape_outline draws


def background(w: int, h: int, rng: np.random.Generator) -> Image.Image:
    a, b = rng.uniform(0, 255, size=(2, 3))
    direction = rng.uniform(-1, 1, size=2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w) * direction[0] + (yy / h) * direction[1]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    arr = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    return Image.fromarray(arr.astype(np.uint8))


def distractor(draw: ImageDraw.ImageDraw, w: int, h: int, rng: np.random.Generator) -> None:
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    if rng.random() < 0.6:
        x0, x1 = rng.uniform(0, w, size=2)
        y0, y1 = rng.uniform(0, h, size=2)
        draw.line([(x0, y0), (x1, y1)], fill=colour, width=int(rng.integers(1, 3)))
    else:
        r = float(rng.uniform(1, 3))
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)


def contrasting_colour(mean: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int]:
    for _ in range(50):
        colour = rng.integers(0, 256, size=3)
        if np.abs(colour - mean).sum() > 180:
            break
    return tuple(int(c) for c in colour)


def rotate(points: list[tuple[float, float]], cx: float, cy: float, angle: float) -> list[tuple[float, float]]:
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]


def shape_outline(shape: str, cx: float, cy: float, sx: float, sy: float, angle: float) -> list[tuple[float, float]]:
    """The shape scaled to (sx, sy) then rotated: circles become ellipses, squares rectangles."""
    if shape == "circle":
        points = [(sx / 2 * math.cos(t), sy / 2 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40, endpoint=False)]
    elif shape == "square":
        points = [(-sx / 2, -sy / 2), (sx / 2, -sy / 2), (sx / 2, sy / 2), (-sx / 2, sy / 2)]
    elif shape == "triangle":
        points = [(sx / 2 * math.cos(a), sy / 2 * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    else:
        msg = f"unknown sample shape {shape!r}; valid: {', '.join(SHAPES)}"
        raise ValueError(msg)
    return rotate(points, cx, cy, angle)
