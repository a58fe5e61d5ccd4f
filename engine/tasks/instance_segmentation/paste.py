"""Each box's 28x28 mask into the image, pixel for pixel as Model API's ``MaskRCNN`` reader pastes it (its
``_segm_postprocess``): the box rounded and clipped to the image, the mask given a zero border and the box widened
by it, a bilinear resize to the widened box, probabilities above 0.5 kept. The product's overlays, metrics and a
deployed Model API reader then see the same instance pixels (torchvision's ``paste_masks_in_image`` truncates the
box instead of rounding it: one-pixel shifts that cost thin shapes up to 10 % IoU against Model API)."""

from __future__ import annotations

import cv2
import numpy as np

MASK_THRESHOLD = 0.5  # a pixel belongs to an instance where its resized mask probability is above this


def paste_masks(boxes: np.ndarray, masks: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """``boxes`` [N, 4] (x1 y1 x2 y2, image pixels) and ``masks`` [N, M, M] probabilities -> [N, H, W] booleans."""
    out = np.zeros((len(boxes), *image_hw), dtype=bool)
    for index, (box, mask) in enumerate(zip(boxes, masks, strict=True)):
        out[index] = paste_mask(box, mask, image_hw)
    return out


def paste_mask(box: np.ndarray, mask: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    h, w = image_hw
    box = np.clip(np.around(np.asarray(box, dtype=np.float64)), 0.0, [w, h, w, h])
    padded = np.pad(np.asarray(mask, dtype=np.float32), 1)
    scale = padded.shape[0] / (padded.shape[0] - 2.0)
    half = (box[2:] - box[:2]) * 0.5 * scale
    centre = (box[2:] + box[:2]) * 0.5
    widened = np.concatenate([centre - half, centre + half]).astype(int)
    size_w, size_h = np.maximum(widened[2:] - widened[:2] + 1, 1)
    resized = cv2.resize(padded, (int(size_w), int(size_h))) > MASK_THRESHOLD
    x0, y0 = np.clip(widened[:2], 0, [w, h])
    x1, y1 = np.clip(widened[2:] + 1, 0, [w, h])
    out = np.zeros(image_hw, dtype=bool)
    out[y0:y1, x0:x1] = resized[y0 - widened[1] : y1 - widened[1], x0 - widened[0] : x1 - widened[0]]
    return out
