"""Saliency maps by RISE (Petsiuk et al., 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
Models"): which pixels a prediction depends on, for any backend.

RISE only calls ``predict``, so the same code explains the PyTorch original and an INT8 IR (gradients do not
exist in an IR, which rules out Grad-CAM there). OpenVINO XAI would be the library for this, but
``openvino-xai`` 1.1.0 needs ``openvino.runtime``, which OpenVINO 2026 no longer has.

The method: draw ``n`` random coarse binary grids (``cells`` x ``cells``, each cell visible with probability
``p``), upsample them smoothly with a random sub-cell shift, show the image through each (hidden pixels take
the image's mean colour), and score how much of the reference prediction each masked image still produces
(:meth:`Task.evidence`). A pixel's saliency is the mean score of the masks that showed it:
``S = sum_i (score_i - mean score) * mask_i / (n * p)`` (the mean taken out to cut the sampling noise).

Both models of a comparison get the same masks and explain the same reference (the original model's
prediction), so their maps answer the same question and can be compared pixel by pixel.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.inference.prediction import Prediction
from engine.inference.predictor import Predictor


def rise_masks(n: int, hw: tuple[int, int], *, cells: int = 7, p: float = 0.5, seed: int = 0) -> np.ndarray:
    """``n`` smooth random masks of shape ``hw`` (float32, 0..1), reproducible from ``seed``."""
    h, w = hw
    rng = np.random.default_rng(seed)
    ch, cw = math.ceil(h / cells), math.ceil(w / cells)
    grids = (rng.random((n, cells, cells)) < p).astype(np.float32)
    out = np.empty((n, h, w), np.float32)
    for i, grid in enumerate(grids):
        up = cv2.resize(grid, ((cells + 1) * cw, (cells + 1) * ch), interpolation=cv2.INTER_LINEAR)
        dy, dx = rng.integers(0, ch), rng.integers(0, cw)
        out[i] = up[dy : dy + h, dx : dx + w]
    return out


def rise(
    predictor: Predictor,
    image: np.ndarray,
    reference: Prediction,
    masks: np.ndarray,
    *,
    p: float = 0.5,
) -> np.ndarray:
    """The RISE map (H, W, float32) of ``predictor`` for ``reference`` on an RGB ``uint8`` image."""
    fill = image.reshape(-1, 3).mean(axis=0)
    scores = np.empty(len(masks), np.float32)
    for i, mask in enumerate(masks):
        shown = image * mask[..., None] + fill * (1 - mask[..., None])
        pred = predictor.predict([shown.astype(np.uint8)])[0]
        scores[i] = predictor.task.evidence(pred, reference, predictor.labels)
    # RISE's sum of score x mask, with the mean score taken out first (a control variate): it shifts every pixel
    # by about the same constant, and removes the noise a large common score adds to each mask's term, which
    # otherwise hides small effects behind hundreds of masks' sampling noise.
    return np.tensordot(scores - scores.mean(), masks, axes=1) / (len(masks) * p)


def similarity(a: np.ndarray, b: np.ndarray, top: float = 0.2) -> dict:
    """How alike two maps are: Pearson correlation and the IoU of their ``top`` share of pixels."""
    fa, fb = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    corr = float(np.corrcoef(fa, fb)[0, 1]) if fa.std() > 0 and fb.std() > 0 else 0.0
    k = max(int(len(fa) * top), 1)
    ta, tb = set(np.argsort(fa)[-k:]), set(np.argsort(fb)[-k:])
    return {"correlation": round(corr, 4), f"top{int(top * 100)}_iou": round(len(ta & tb) / len(ta | tb), 4)}


def overlay(image: np.ndarray, saliency: np.ndarray, *, alpha: float = 0.5, min_side: int = 256) -> np.ndarray:
    """The map as a heat overlay (red = most salient) on the image, enlarged to at least ``min_side``."""
    span = float(saliency.max() - saliency.min())
    norm = (saliency - saliency.min()) / span if span > 0 else np.zeros_like(saliency)
    heat = cv2.cvtColor(cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blended = (image * (1 - alpha) + heat * alpha).astype(np.uint8)
    scale = max(1, math.ceil(min_side / min(blended.shape[:2])))
    if scale > 1:
        blended = cv2.resize(blended, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    return blended
