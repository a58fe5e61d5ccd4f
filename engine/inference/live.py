"""The booth's looping video: test images with a slow pan and zoom, and live frame rates per model.

Frames are made on the fly from a split's images (no video file, no camera needed, nothing downloaded):
each image is shown for ``hold`` frames while the view glides from a zoomed-in corner to the whole image,
so the stream moves like footage and the models see a new input every frame.
"""

from __future__ import annotations

import collections
import statistics

import cv2
import numpy as np


class LoopingFeed:
    """Frame ``i`` of an endless loop over ``images`` (RGB ``uint8`` arrays)."""

    def __init__(self, images: list[np.ndarray], *, hold: int = 24, zoom: float = 1.35, size: int = 0) -> None:
        if not images:
            msg = "a looping feed needs at least one image"
            raise ValueError(msg)
        self.images, self.hold, self.zoom, self.size = images, hold, zoom, size

    def frame(self, i: int) -> np.ndarray:
        image = self.images[(i // self.hold) % len(self.images)]
        t = (i % self.hold) / max(self.hold - 1, 1)  # 0 -> 1 within this image's shot
        h, w = image.shape[:2]
        scale = self.zoom + (1.0 - self.zoom) * t  # zoomed in -> whole image
        ch, cw = int(h / scale), int(w / scale)
        corner = (i // self.hold) % 4  # each shot glides in from another corner
        y = int((h - ch) * (1 - t) * (corner // 2))
        x = int((w - cw) * (1 - t) * (corner % 2))
        crop = image[y : y + ch, x : x + cw]
        side = self.size or max(h, w)
        return cv2.resize(crop, (int(side * w / max(h, w)), int(side * h / max(h, w))), interpolation=cv2.INTER_LINEAR)


class RateMeter:
    """Frames per second from the last ``window`` per-frame times (median, so one slow frame does not swing it),
    after ``warmup`` frames that are not counted (first calls allocate, compile kernels and fill caches)."""

    def __init__(self, window: int = 30, warmup: int = 10) -> None:
        self.times: collections.deque[float] = collections.deque(maxlen=window)
        self.warmup = warmup
        self.seen = 0

    def add(self, ms: float) -> None:
        self.seen += 1
        if self.seen > self.warmup:
            self.times.append(ms)

    @property
    def ready(self) -> bool:
        """A full window after the warm-up: only then is a ratio of two meters' medians worth showing."""
        return len(self.times) == self.times.maxlen

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def fps(self) -> float | None:
        m = self.median_ms
        return 1000.0 / m if m else None
