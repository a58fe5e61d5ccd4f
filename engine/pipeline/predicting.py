"""The predict verb: run one variant on image files, optionally saving annotated copies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.data.images import check_image, read_rgb
from engine.errors import StudioError
from engine.pipeline.context import Context
from engine.pipeline.optimizing import variant_predictor


def predict(
    ctx: Context,
    run_id: int | str,
    images: Sequence[str | Path],
    *,
    variant: str = "int8",
    device: str = "CPU",
    save: str | Path | None = None,
) -> dict:
    if not images:
        msg = "give at least one image file to predict"
        raise StudioError(msg)
    for path in images:
        check = check_image(path)
        if not check.ok:
            msg = f"cannot use image {path}: {check.error}"
            raise StudioError(msg)
    out_dir = Path(save) if save else None
    if out_dir and out_dir.exists() and not out_dir.is_dir():
        msg = f"--save {out_dir} is a file; give a folder for the annotated copies (it is created when missing)"
        raise StudioError(msg)
    run = ctx.run(run_id)
    predictor = variant_predictor(ctx, run, variant, device, config={})
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for path in images:
        image = read_rgb(path)
        pred = predictor.predict([image])[0]
        entry = {
            "image": str(path),
            "task": predictor.task.name,
            **predictor.task.describe(pred, predictor.labels),
            "timing_ms": pred.timing_dict(),
        }
        if out_dir:
            target = out_dir / f"{Path(path).stem}_{variant}.png"
            predictor.task.draw(image, pred, predictor.labels).save(target)
            entry["saved"] = str(target)
        results.append(entry)
    return {"run": run["id"], "variant": variant, "device": device, "predictions": results}
