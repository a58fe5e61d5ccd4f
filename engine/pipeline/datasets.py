"""Dataset verbs: write the built-in sample, import a dataset (folder or zip) into the workspace, show it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from engine.data import stored
from engine.data.archive import dataset_root, safe_extract
from engine.data.importer import read_dataset
from engine.data.notes import data_notes
from engine.errors import StudioError
from engine.pipeline.context import Context
from engine.store.atomic import write_bytes
from engine.tasks import get_task, tasks

UPLOADS = "uploads"  # <workspace>/uploads/<name>-<sha8>.zip and its extracted folder beside it


def make_sample(task: str, out: str | Path, seed: int = 0) -> dict:
    """Write the built-in sample dataset of ``task`` to ``out`` (deterministic for a given seed)."""
    spec = get_task(task)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        msg = f"{out} already exists and is not empty; choose another --out or delete it"
        raise StudioError(msg)
    return {"task": spec.name, "path": str(out), "images": spec.write_sample(out, seed=seed)}


def save_upload(ctx: Context, name: str, data: bytes) -> Path:
    """Keep an uploaded zip in the workspace (content-addressed, so the same upload is stored once)."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).stem)[:60] or "upload"
    path = ctx.ws.root / UPLOADS / f"{stem}-{digest}.zip"
    if not path.is_file():
        write_bytes(path, data)
    return path


def _unpacked(ctx: Context, archive: Path) -> Path:
    """The dataset folder inside a zip, extracted safely next to the workspace's uploads (once per zip)."""
    target = ctx.ws.root / UPLOADS / f"{archive.stem}-extracted"
    if target.is_dir():  # extracted and checked already
        return dataset_root(target)
    return safe_extract(archive, target)


def import_dataset(
    ctx: Context,
    path: str | Path,
    *,
    fmt: str | None = None,
    task: str | None = None,
    name: str | None = None,
    seed: int = 0,
) -> dict:
    source = Path(path)
    is_zip = source.is_file() and source.suffix.lower() == ".zip"
    extracted = ctx.ws.root / UPLOADS / f"{source.stem}-extracted"
    fresh = is_zip and not extracted.exists()
    folder_in = _unpacked(ctx, source) if is_zip else source
    try:
        result = read_dataset(
            folder_in, list(tasks().values()), task=get_task(task) if task else None, fmt=fmt or None, seed=seed
        )
    except BaseException:
        if fresh:  # a zip that does not import leaves nothing behind
            shutil.rmtree(extracted, ignore_errors=True)
        raise
    about = {"name": name or source.resolve().name.removesuffix(".zip"), "source": str(source.resolve())}
    dataset_id = ctx.db.add_dataset(task=result.task, fmt=result.format, **about)
    folder = ctx.dataset_dir(dataset_id)
    try:
        info = stored.save(result, get_task(result.task), folder, about)
    except BaseException:
        ctx.db.delete_dataset(dataset_id)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    ctx.db.update_dataset(dataset_id, path=str(folder), info=info)
    # the per-image and per-box size samples are the Data page's charts (``data info``), not the import's summary
    summary = {k: v for k, v in info.items() if k not in ("image_sizes", "box_sizes")}
    task = get_task(result.task)
    return {
        "dataset": dataset_id,
        **summary,
        "notes": data_notes({**info, "count_unit": task.count_unit}, task.size_bounds, task.balances),
    }


def dataset_info(ctx: Context, dataset_id: int | str) -> dict:
    """The stored statistics, plus what the Data page draws of them (the task's charts, what counts count)."""
    row = ctx.db.get_dataset(dataset_id)
    task = ctx.task(row)
    info = row["info"]
    return {
        "dataset": row["id"],
        "name": row["name"],
        "source": row["source"],
        **info,
        "count_unit": task.count_unit,
        "charts": task.statistics_charts(info),
        "notes": data_notes({**info, "count_unit": task.count_unit}, task.size_bounds, task.balances),
    }


def dataset_samples(
    ctx: Context, dataset_id: int | str, split: str = "train", *, count: int = 0, captions: bool = True
) -> list[dict]:
    """One split's images (``count`` evenly spaced ones, or all), each with its target and a caption of it."""
    row = ctx.db.get_dataset(dataset_id)
    task, labels = ctx.task(row), row["info"]["labels"]
    samples = ctx.samples(row, split)
    if count:
        samples = samples[:: max(len(samples) // count, 1)][:count]
    return [
        {
            "image": path,
            "target": target,
            "caption": task.caption(task.ground_truth(target), labels) if captions else "",
        }
        for path, target in samples
    ]
