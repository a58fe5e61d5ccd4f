"""Reading images safely: every decode failure becomes a listed problem, never a crash."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import StudioError

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
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return ImageCheck(False, error=f"too many pixels, refused as a possible decompression bomb ({exc})")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return ImageCheck(False, error=f"cannot decode image ({exc})")
    return ImageCheck(True, w, h, hashlib.md5(data, usedforsecurity=False).hexdigest())


def read_rgb(path: str | Path | BinaryIO) -> np.ndarray:
    """Decode an image file (a path or an open binary file) to an RGB ``uint8`` array of shape (H, W, 3);
    a file that is not a usable image is a :class:`StudioError` naming it."""
    name = getattr(path, "name", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    msg = f"{name} is {w}x{h} pixels, more than the {MAX_PIXELS} allowed; downscale it first"
                    raise StudioError(msg)
                return np.asarray(im.convert("RGB"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        msg = f"{name} has too many pixels (refused as a possible decompression bomb); downscale it first"
        raise StudioError(msg) from None
    except FileNotFoundError:
        msg = f"image {name} does not exist"
        raise StudioError(msg) from None
    except UnidentifiedImageError:  # its message repeats the file object's repr (an upload's internals)
        msg = f"{name} is not an image this product can read (unknown format); use PNG, JPEG, BMP, TIFF or WebP"
        raise StudioError(msg) from None
    except (OSError, SyntaxError, ValueError) as exc:
        msg = f"{name} is not an image this product can read ({exc}); use PNG, JPEG, BMP, TIFF or WebP"
        raise StudioError(msg) from None
