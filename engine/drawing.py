"""Drawing helpers every task's overlays (and the sample generators) share: class colours, fonts, upscaling."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageFont

PALETTE = np.array(
    [
        (0, 0, 0),
        (230, 25, 75),
        (60, 180, 75),
        (255, 225, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
        (210, 245, 60),
        (250, 190, 212),
        (0, 128, 128),
    ],
    dtype=np.uint8,
)


def colour(index: int) -> tuple[int, int, int]:
    """The colour of class ``index`` (index 0 is black: background); beyond the palette, a seeded random one."""
    if index < len(PALETTE):
        return tuple(int(v) for v in PALETTE[index])
    rng = np.random.default_rng(index)
    return tuple(int(v) for v in rng.integers(40, 256, size=3))


def enlarged(canvas: Image.Image, min_side: int, resample: Image.Resampling) -> tuple[Image.Image, float]:
    """Upscale a small image so its longer side is at least ``min_side`` (labels stay readable); (image, scale)."""
    if max(canvas.size) >= min_side:
        return canvas, 1.0
    scale = min_side / max(canvas.size)
    return canvas.resize((round(canvas.width * scale), round(canvas.height * scale)), resample), scale


def font(height: int, lines: int) -> ImageFont.ImageFont:
    """PIL's bundled font sized so ``lines`` lines fill the image height (never below 11 px)."""
    return ImageFont.load_default(size=max(11, height // lines))


def data_url(image: Image.Image, format: str = "PNG", **save: object) -> str:
    """The image inline, as a ``data:`` URL (``format``: a PIL format; ``save``: its options, e.g. quality)."""
    buffer = io.BytesIO()
    (image.convert("RGB") if format == "JPEG" else image).save(buffer, format=format, **save)
    return f"data:image/{format.lower()};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
