"""What every predictor returns, whatever the backend and task."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Timing:
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


@dataclass
class Prediction:
    """One image's result. Classification fills ``label``/``score``/``scores``."""

    task: str
    label: int = -1
    score: float = 0.0
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    timing: Timing = field(default_factory=Timing)

    def to_dict(self, labels: list[str] | None = None) -> dict:
        out = {"task": self.task, "label": self.label, "score": round(float(self.score), 6)}
        if labels and 0 <= self.label < len(labels):
            out["label_name"] = labels[self.label]
        out["timing_ms"] = {
            "preprocess": round(self.timing.preprocess_ms, 3),
            "inference": round(self.timing.inference_ms, 3),
            "postprocess": round(self.timing.postprocess_ms, 3),
        }
        return out
