"""Reading images safely: every decode failure becomes a listed problem, never a crash."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 64_000_000  # refuse decompression bombs


@dataclass(frozen=True)
class ImageCheck:
    ok: bool
    width: int = 0
    height: int = 0
    digest: str = ""
    error: str = ""


def check_image(path: str | Path) -> ImageCheck:
    """Fully decode ``path``; return its size and content digest, or the reason it is unusable."""
    path = Path(path)
    try:
        data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    return ImageCheck(False, error=f"{w}x{h} pixels is larger than the {MAX_PIXELS} limit")
                im.convert("RGB").load()
    except FileNotFoundError:
        return ImageCheck(False, error="file not found")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        return ImageCheck(False, error=f"cannot decode image ({exc})")
    return ImageCheck(True, w, h, hashlib.md5(data, usedforsecurity=False).hexdigest())


def read_rgb(path: str | Path | BinaryIO) -> np.ndarray:
    """Decode an image file (a path or an open binary file) to an RGB ``uint8`` array of shape (H, W, 3)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
