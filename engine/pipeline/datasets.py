"""Dataset verbs: write the built-in sample, import a dataset into the workspace, show its statistics."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.data import stored
from engine.data.importer import read_dataset
from engine.errors import StudioError
from engine.pipeline.context import Context

SAMPLES = {  # task -> module with generate(out, SampleConfig(seed=...)) and SampleConfig
    "classification": "engine.data.sample_classification",
    "detection": "engine.data.sample_detection",
    "segmentation": "engine.data.sample_segmentation",
}


def make_sample(task: str, out: str | Path, seed: int = 0) -> dict:
    """Write the built-in sample dataset of ``task`` to ``out`` (deterministic for a given seed)."""
    if task not in SAMPLES:
        msg = f"no built-in sample for task {task!r}; available: {', '.join(SAMPLES)}"
        raise StudioError(msg)
    import importlib

    module = importlib.import_module(SAMPLES[task])
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        msg = f"{out} already exists and is not empty; choose another --out or delete it"
        raise StudioError(msg)
    counts = module.generate(out, module.SampleConfig(seed=seed))
    return {"task": task, "path": str(out), "images": counts}


def import_dataset(
    ctx: Context,
    path: str | Path,
    *,
    fmt: str | None = None,
    task: str | None = None,
    name: str | None = None,
    seed: int = 0,
) -> dict:
    result = read_dataset(path, fmt=fmt, task=task, seed=seed)
    dataset_id = ctx.db.add_dataset(
        name=name or Path(path).resolve().name,
        task=result.task,
        fmt=result.format,
        source=str(Path(path).resolve()),
    )
    folder = ctx.dataset_dir(dataset_id)
    try:
        info = stored.save(result, folder)
    except BaseException:
        ctx.db.delete_dataset(dataset_id)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    ctx.db.update_dataset(dataset_id, path=str(folder), info=info)
    return {"dataset": dataset_id, **info}


def dataset_info(ctx: Context, dataset_id: int | str) -> dict:
    row = ctx.db.get_dataset(dataset_id)
    return {"dataset": row["id"], "name": row["name"], "source": row["source"], **row["info"]}
