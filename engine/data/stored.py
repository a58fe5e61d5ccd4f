"""Imported datasets as stored in the workspace: Datumaro format with train/val/test subsets + info.json.

Functions that need to know the task take the :class:`~engine.tasks.base.Task` object from the caller.
"""

from __future__ import annotations

import shutil
import statistics
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import datumaro as dm

from engine.choices import SPLITS
from engine.data.importer import ImportResult
from engine.errors import StudioError
from engine.store.atomic import read_json, write_json

if TYPE_CHECKING:  # data/ takes task objects from its callers; it never imports the registry
    from engine.tasks.base import Task

DATASET_SUBDIR = "dataset"
INFO_FILE = "info.json"
MAX_SIZES_KEPT = 5000  # per-image (w, h) kept for the size chart


def save(result: ImportResult, task: Task, folder: Path, about: dict | None = None) -> dict:
    """Write the cleaned dataset and its statistics (with ``about``: its name and source, which
    ``workspace repair`` reads back) to ``folder``; return the statistics."""
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    result.dataset.export(str(tmp / DATASET_SUBDIR), "datumaro", save_media=True)
    info = {**summarize(result, task), **(about or {})}
    write_json(tmp / INFO_FILE, info)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return info


def summarize(result: ImportResult, spec: Task) -> dict:
    counts: dict[str, Counter] = {split: Counter() for split in SPLITS}
    images: Counter = Counter()

    def targets():
        """Every item's target, read once (masks are not all held in memory): counted per split here and
        summarised by the task's statistics from the same stream."""
        for split in SPLITS:
            for item in result.dataset.get_subset(split) if split in result.dataset.subsets() else []:
                target, _ = spec.extract_target(item, result.labels)
                images[split] += 1
                counts[split].update(result.labels[c] for c in spec.classes_of(target))
                yield target

    stream = targets()
    task_stats = spec.statistics(stream, result.labels)
    for _ in stream:  # a task whose statistics need no targets leaves the stream unread: count the rest
        pass
    splits = {
        split: {"images": images[split], "per_class": {n: counts[split].get(n, 0) for n in result.labels}}
        for split in SPLITS
    }
    widths = [w for w, _ in result.sizes.values()]
    heights = [h for _, h in result.sizes.values()]
    return {
        "task": result.task,
        "format": result.format,
        "labels": result.labels,
        "num_images": len(result.dataset),
        "splits": splits,
        "image_size": {"width": _spread(widths), "height": _spread(heights)},
        "image_sizes": [list(wh) for wh in list(result.sizes.values())[:MAX_SIZES_KEPT]],
        "problems": result.problems,
        **task_stats,
    }


def _spread(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def load_info(folder: Path) -> dict:
    return read_json(folder / INFO_FILE)


@lru_cache(maxsize=4)
def _open(folder: str) -> dm.Dataset:
    path = Path(folder) / DATASET_SUBDIR
    if not path.is_dir():
        msg = f"the dataset folder {path} is missing; import the dataset again with `python -m engine data import`"
        raise StudioError(msg)
    return dm.Dataset.import_from(str(path), "datumaro")


def stored_item(folder: str | Path, subset: str, item_id: str) -> dm.DatasetItem:
    item = _open(str(folder)).get(item_id, subset)
    if item is None:
        msg = f"item {subset}/{item_id} is not in the stored dataset {folder}; import the dataset again"
        raise StudioError(msg)
    return item


def split_samples(folder: Path, split: str, task: Task) -> list[tuple[str, object]]:
    """``(image path, target)`` pairs of one split, in a stable order."""
    dataset = _open(str(folder))
    labels = load_info(folder)["labels"]
    if split not in dataset.subsets():
        msg = f"the dataset has no {split!r} split; it has {', '.join(sorted(dataset.subsets()))}"
        raise StudioError(msg)
    out = []
    for item in sorted(dataset.get_subset(split), key=lambda it: it.id):
        out.append((item.media.path, task.sample_target(item, labels, folder)))
    return out
