"""Pretrained weights from the weights folder only: nothing is downloaded unless the user asks (``weights fetch``).

The folder is torch's own checkpoint cache (``$TORCH_HOME/hub/checkpoints``), or ``$STUDIO_WEIGHTS_DIR/checkpoints``
when that is set (torchvision's builders then read the same place). ``weights import`` fills it on an offline
machine, after checking each file (``engine.pipeline.weights_store``). When the checkpoint file of a torchvision
``WeightsEnum`` is there it is loaded (``weights_only=True``); otherwise the model keeps its random init and the
caller records the notice so the user knows why accuracy starts from zero.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ENV_VAR = "STUDIO_WEIGHTS_DIR"


@dataclass(frozen=True)
class WeightsStatus:
    pretrained: bool
    notice: str
    file: str = ""  # the checkpoint used, when pretrained
    sha256: str = ""


def hub_dir() -> Path:
    """Where torch (and so torchvision's builders) look for checkpoints: ``$STUDIO_WEIGHTS_DIR`` when set.

    Found without importing torch (listing weights stays light); once torch is imported it is told the same place.
    """
    custom = os.environ.get(ENV_VAR, "").strip()
    torch = sys.modules.get("torch")
    if custom:
        path = Path(custom).expanduser()
        if torch is not None:
            torch.hub.set_dir(str(path))
        return path
    if torch is not None:
        return Path(torch.hub.get_dir())
    return _torch_home() / "hub"


def _torch_home() -> Path:
    """torch.hub's default home, as ``torch.hub._get_torch_home`` computes it (``$TORCH_HOME`` or the XDG cache)."""
    cache = Path(os.getenv("XDG_CACHE_HOME", "~/.cache"))
    return Path(os.getenv("TORCH_HOME", str(cache / "torch"))).expanduser()


def weights_dir() -> Path:
    return hub_dir() / "checkpoints"


def file_name(weights: object) -> str:
    """torchvision's file name of a weights enum (``resnet18-f37072fd.pth``: the hex is its SHA-256's prefix)."""
    return Path(weights.url).name


def cached_file(weights: object) -> Path | None:
    """Path of the stored checkpoint of a torchvision weights enum, or ``None`` when absent."""
    url = getattr(weights, "url", None)
    if not url:
        return None
    path = weights_dir() / file_name(weights)
    return path if path.is_file() else None


def sha256(path: Path) -> str:
    """The file's SHA-256 (remembered per path, size and mtime: pages list the weights on every rerun)."""
    stat = Path(path).stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_notice(weights: object, what: str = "pretrained weights") -> str:
    name = getattr(weights, "name", str(weights))
    return (
        f"{what} {name} are not in the weights folder ({weights_dir()}): training starts from random init;"
        f" `python -m engine weights import FILE` (offline) or `weights fetch ARCH` (online) adds them"
    )


def load_cached_state(weights: object) -> tuple[dict | None, WeightsStatus]:
    path = cached_file(weights)
    if path is None:
        return None, WeightsStatus(False, missing_notice(weights))
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    digest = sha256(path)
    notice = f"initialised from pretrained weights {path.name} (sha256 {digest[:12]})"
    return state, WeightsStatus(True, notice, str(path), digest)


def cached_or_none(weights: object) -> object | None:
    """``weights`` when its file is stored (torchvision then loads it from the folder), else ``None``.

    Detection/segmentation builders download ``weights_backbone`` when it is not there; passing
    ``None`` in that case keeps everything offline."""
    return weights if cached_file(weights) is not None else None


def backbone_status(weights: object | None, requested: bool, expected: object = None) -> WeightsStatus:
    if not requested:
        return WeightsStatus(False, "pretrained weights not requested: training starts from random init")
    if weights is None:
        return WeightsStatus(False, missing_notice(expected, "pretrained backbone weights"))
    path = cached_file(weights)
    digest = sha256(path)
    notice = f"backbone initialised from ImageNet weights {path.name} (sha256 {digest[:12]})"
    return WeightsStatus(True, notice, str(path), digest)


def tune_for_scratch(model: torch.nn.Module) -> None:
    """torchvision's MobileNet/EfficientNet BN momentum (0.01) suits fine-tuning; from random init the
    running statistics would lag the weights for hundreds of steps, so evaluation looks like chance."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.1
