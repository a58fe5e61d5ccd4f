"""Checkpoints: written atomically, read with ``weights_only=True`` and checked before use."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from engine.errors import StudioError
from engine.store.atomic import atomic_write

FORMAT = "edge-model-studio/checkpoint"
VERSION = 1


LOW_DISK_BYTES = 256 * 2**20  # below this much free space a failed write is taken for a full disk


def save(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically: a failed write leaves the previous file whole. torch's zip writer reports a full disk
    as ``RuntimeError: [enforce fail at inline_container.cc] ... unexpected pos``; that becomes the ENOSPC it
    is (one line with the fix at the error boundary)."""
    try:
        atomic_write(path, lambda tmp: torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp))
    except RuntimeError as exc:
        if "inline_container" not in str(exc) and "PytorchStreamWriter" not in str(exc):
            raise
        if shutil.disk_usage(Path(path).parent).free < LOW_DISK_BYTES:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        first = str(exc).strip().splitlines()[0]
        msg = f"cannot write checkpoint {path} ({first}); check that its folder is on a healthy, writable disk"
        raise StudioError(msg) from None


def load(path: Path, allowed: tuple[type, ...] = ()) -> dict[str, Any]:
    """Load a checkpoint this product wrote; anything else gets a message instead of a crash.

    ``weights_only=True`` always: ``allowed`` names the few plain classes (enums) a checkpoint may hold
    besides tensors and containers, e.g. NNCF's quantizer settings in a QAT checkpoint."""
    path = Path(path)
    if not path.is_file():
        msg = f"checkpoint {path} does not exist; train the run first (or resume it) to create it"
        raise StudioError(msg)
    try:
        with torch.serialization.safe_globals(list(allowed)):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        msg = (
            f"cannot read checkpoint {path}: it is corrupt or was not saved by Edge Model Studio ({detail})."
            " Train the run again to recreate it"
        )
        raise StudioError(msg) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = (
            f"{path} is not an Edge Model Studio checkpoint (no '{FORMAT}' marker); checkpoints from elsewhere"
            " cannot be resumed or exported here — train a run with `python -m engine train`"
        )
        raise StudioError(msg)
    if data.get("version", 0) > VERSION:
        msg = f"checkpoint {path} has version {data['version']}, newer than this product reads ({VERSION}); upgrade"
        raise StudioError(msg)
    return data
