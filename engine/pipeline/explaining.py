"""The saliency verb: where the original and the optimized model look, on the same image, with the same masks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.images import read_rgb
from engine.errors import StudioError
from engine.inference import saliency as rise
from engine.inference.predictor import Predictor
from engine.pipeline.context import Context
from engine.pipeline.optimizing import variant_predictor

MIN_MASKS, MAX_MASKS = 16, 5000


def explain_pair(original: Predictor, optimized: Predictor, image: np.ndarray, *, masks: int, seed: int = 0) -> dict:
    """RISE maps of both models for the original's prediction, their similarity and their cost."""
    if not MIN_MASKS <= masks <= MAX_MASKS:
        msg = f"--masks {masks} is out of range: give {MIN_MASKS}..{MAX_MASKS} (300 is a good start)"
        raise StudioError(msg)
    reference = original.predict([image])[0]
    drawn = rise.rise_masks(masks, image.shape[:2], seed=seed)
    maps, seconds = {}, {}
    for role, model in (("original", original), ("optimized", optimized)):
        start = time.perf_counter()
        maps[role] = rise.rise(model, image, reference, drawn)
        seconds[role] = round(time.perf_counter() - start, 3)
    return {
        "explained": original.task.explained(reference, original.labels),
        "similarity": rise.similarity(maps["original"], maps["optimized"]),
        "seconds": seconds,
        "masks": masks,
        "maps": maps,
    }


def saliency(
    ctx: Context,
    run_id: int | str,
    *,
    image: str | Path | None = None,
    index: int = 0,
    a: str = "torch-fp32",
    b: str = "int8",
    masks: int = 300,
    save: str | Path | None = None,
) -> dict:
    """Explain one image (a file, else the test split's ``index``-th) with both variants; save the overlays."""
    run = ctx.run(run_id)
    if image is None:
        samples = ctx.samples(run, "test")
        if not 0 <= index < len(samples):
            msg = f"--index {index} is out of range: the test split has {len(samples)} images (0..{len(samples) - 1})"
            raise StudioError(msg)
        image = samples[index][0]
    out_dir = Path(save) if save else None
    if out_dir and out_dir.exists() and not out_dir.is_dir():
        msg = f"--save {out_dir} is a file; give a folder for the saliency images (it is created when missing)"
        raise StudioError(msg)
    pixels = read_rgb(image)
    result = explain_pair(variant_predictor(ctx, run, a), variant_predictor(ctx, run, b), pixels, masks=masks)
    maps = result.pop("maps")
    saved = []
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        for role, variant in (("original", a), ("optimized", b)):
            target = out_dir / f"{Path(image).stem}_{variant}_saliency.png"
            Image.fromarray(rise.overlay(pixels, maps[role])).save(target)
            saved.append(str(target))
    return {"run": run["id"], "a": a, "b": b, "image": str(image), **result, "saved": saved}
