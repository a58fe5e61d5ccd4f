"""Pretrained weights from the local torch cache only: nothing is ever downloaded.

When the checkpoint file of a torchvision ``WeightsEnum`` is already in ``$TORCH_HOME/hub/checkpoints``
it is loaded (``weights_only=True``); otherwise the model keeps its random init and the caller records
the notice so the user knows why accuracy starts from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class WeightsStatus:
    pretrained: bool
    notice: str


def cached_file(weights: object) -> Path | None:
    """Path of the cached checkpoint for a torchvision weights enum, or ``None`` when absent."""
    url = getattr(weights, "url", None)
    if not url:
        return None
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    return path if path.is_file() else None


def load_cached_state(weights: object) -> tuple[dict | None, WeightsStatus]:
    path = cached_file(weights)
    if path is None:
        name = getattr(weights, "name", str(weights))
        notice = (
            f"pretrained weights {name} are not in the local torch cache ({torch.hub.get_dir()}/checkpoints):"
            " training starts from random init"
        )
        return None, WeightsStatus(False, notice)
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state, WeightsStatus(True, f"initialised from cached pretrained weights {path.name}")


def cached_or_none(weights: object) -> object | None:
    """``weights`` when its file is cached (torchvision then loads it from the cache), else ``None``.

    Detection/segmentation builders download ``weights_backbone`` when it is not cached; passing
    ``None`` in that case keeps everything offline."""
    return weights if cached_file(weights) is not None else None


def backbone_status(weights: object | None, requested: bool) -> WeightsStatus:
    if not requested:
        return WeightsStatus(False, "pretrained weights not requested: training starts from random init")
    if weights is None:
        return WeightsStatus(
            False,
            f"pretrained backbone weights are not in the local torch cache ({torch.hub.get_dir()}/checkpoints):"
            " training starts from random init",
        )
    return WeightsStatus(True, f"backbone initialised from cached ImageNet weights {cached_file(weights).name}")
