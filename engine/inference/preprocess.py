"""The one pre-processing every backend shares: resize (bilinear) and ImageNet normalisation.

Training, PyTorch inference and OpenVINO inference all go through :func:`resize`, so a model sees the
same pixels whichever backend runs it. The IR's ``model_info`` describes the same steps (standard resize,
``mean_values``/``scale_values`` in 0-255 units) for Model API, which embeds them into the graph.
"""

from __future__ import annotations

import cv2
import numpy as np

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
_MEAN = np.asarray(MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
_STD = np.asarray(STD, dtype=np.float32).reshape(1, 3, 1, 1)


def resize(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an RGB (H, W, 3) image to ``size`` (square int or (height, width)), in float32.

    Interpolating in float (not OpenCV's fixed-point uint8 path) matches OpenVINO's own resize, which
    Model API embeds in the IR, so both give the same network input.
    """
    h, w = (size, size) if isinstance(size, int) else size
    image = image.astype(np.float32, copy=False)
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def resize_u8(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """:func:`resize`, rounded back to ``uint8`` (for caching training images compactly)."""
    return np.clip(np.rint(resize(image, size)), 0, 255).astype(np.uint8)


def to_input(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """RGB ``uint8`` (H, W, 3) -> normalised float32 (1, 3, H, W), the network input."""
    x = resize(image, size).transpose(2, 0, 1)[None] / 255.0
    return (x - _MEAN) / _STD


def model_api_preprocessing() -> dict[str, str]:
    """The same pre-processing in Model API's terms (values in 0-255, image given as BGR).

    ``input_dtype=f32`` makes Model API convert the image to float *before* its embedded resize. With its
    default (u8) the resize runs on uint8 and rounds every pixel to a whole gray level, and how it rounds
    depends on the CPU's kernel (AVX2 and AVX-512 differ): near-tied images then flip class on some CPUs.
    In float both resizes are the same bilinear interpolation, so Model API sees the product's input."""
    return {
        "input_dtype": "f32",
        "mean_values": " ".join(f"{255 * m:g}" for m in MEAN),
        "scale_values": " ".join(f"{255 * s:g}" for s in STD),
        "reverse_input_channels": "True",
        "resize_type": "standard",
        "pad_value": "0",
    }


def resize_mask(mask: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a (H, W) class-index mask (labels never blend)."""
    h, w = (size, size) if isinstance(size, int) else size
    if mask.shape[:2] == (h, w):
        return mask
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
