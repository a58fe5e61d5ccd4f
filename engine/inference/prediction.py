"""What every predictor returns, whatever the backend and task."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass
class Timing:
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


def _empty(*shape: int, dtype=np.float32) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


@dataclass
class Prediction:
    """One image's result, in the coordinates of the original image.

    Classification fills ``label``/``score``/``scores``; detection fills ``boxes`` (N, 4 ``x1 y1 x2 y2``
    pixels), ``box_scores`` and ``box_labels`` (every detection the model returned, highest score first);
    segmentation fills ``mask`` (H, W class indices); instance segmentation fills the detection fields and
    ``instance_masks`` (N, H, W booleans, one per box).
    """

    task: str
    label: int = -1
    score: float = 0.0
    scores: np.ndarray = field(default_factory=lambda: _empty(0))
    boxes: np.ndarray = field(default_factory=lambda: _empty(0, 4))
    box_scores: np.ndarray = field(default_factory=lambda: _empty(0))
    box_labels: np.ndarray = field(default_factory=lambda: _empty(0, dtype=np.int64))
    mask: np.ndarray = field(default_factory=lambda: _empty(0, 0, dtype=np.uint8))
    instance_masks: np.ndarray = field(default_factory=lambda: _empty(0, 0, 0, dtype=bool))
    timing: Timing = field(default_factory=Timing)

    def above(self, threshold: float) -> Prediction:
        """The detections scoring at least ``threshold`` (what is drawn and compared)."""
        keep = self.box_scores >= threshold
        masks = self.instance_masks[keep] if len(self.instance_masks) == len(keep) else self.instance_masks
        return replace(
            self,
            boxes=self.boxes[keep],
            box_scores=self.box_scores[keep],
            box_labels=self.box_labels[keep],
            instance_masks=masks,
        )

    def timing_dict(self) -> dict[str, float]:
        return {
            "preprocess": round(self.timing.preprocess_ms, 3),
            "inference": round(self.timing.inference_ms, 3),
            "postprocess": round(self.timing.postprocess_ms, 3),
        }
