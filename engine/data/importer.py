"""Dataset import through Datumaro: detect the format, read it, check every image, fix the splits.

The caller hands in the candidate tasks (``engine.tasks.TASKS``): this layer reads data and never looks the
tasks up itself. The result is a cleaned ``datumaro.Dataset`` with subsets ``train``/``val``/``test`` plus the list of
problems found (corrupt images, missing labels, split overlap) and what was done about each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import datumaro as dm
from datumaro.components.environment import Environment

from engine.data.folders import import_subsets, original, stage_images
from engine.data.images import check_image
from engine.data.splits import assign_splits, canonical_subset
from engine.errors import StudioError

if TYPE_CHECKING:  # data/ takes task objects from its callers; it never imports the registry
    from engine.tasks.base import Task

log = logging.getLogger(__name__)

_SPLIT_PRIORITY = {"test": 0, "val": 1, "train": 2, None: 3}


@dataclass
class ImportResult:
    dataset: dm.Dataset
    task: str
    format: str
    labels: list[str]
    problems: list[dict] = field(default_factory=list)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # item key -> (w, h)


def supported_formats(tasks: Sequence[Task]) -> list[str]:
    return sorted({fmt for task in tasks for fmt in task.formats})


def detect_format(path: Path, tasks: Sequence[Task], task: Task | None = None) -> str:
    """Pick the Datumaro format of ``path``; several matches (VOC flavours) are resolved by task."""
    candidates = Environment().detect_dataset(str(path), depth=2)
    if task is None and sum(c.startswith("voc_") for c in candidates) > 1:
        return _voc_flavour(path)
    for each in [task] if task else tasks:
        for fmt in each.formats:
            if fmt in candidates:
                return fmt
    if candidates:
        msg = (
            f"{path} looks like {', '.join(candidates)}, which no task here reads"
            + (f" as {task.name}" if task else "")
            + f"; supported formats: {', '.join(supported_formats(tasks))}"
        )
    else:
        msg = (
            f"could not recognise a dataset format in {path}; supported formats: "
            f"{', '.join(supported_formats(tasks))}. Check the folder layout or pass --format"
        )
    raise StudioError(msg)


# VOC's annotation folders, the most specific first: a VOC folder matches every flavour Datumaro knows
_VOC_FOLDERS = (
    ("SegmentationObject", "*.png", "voc_instance_segmentation"),
    ("Annotations", "*.xml", "voc_detection"),
    ("SegmentationClass", "*.png", "voc_segmentation"),
)


def _voc_flavour(path: Path) -> str:
    """The VOC flavour most of the folder's images are annotated for (VOC2012: boxes on all 17k images, masks on
    2.9k), the most specific among equals; image labels when no folder has any. Annotations/ also holds a
    classification set's image labels: a file counts as boxes only with a ``<bndbox>`` in it."""
    counts = {}
    roots = [path, *path.iterdir()] if path.is_dir() else []  # the VOC root, or one folder down (depth 2)
    for folder, pattern, fmt in _VOC_FOLDERS:
        files = [f for d in roots if d.is_dir() for f in (d / folder).glob(pattern)]
        if fmt == "voc_detection":
            files = [f for f in files if "<bndbox>" in f.read_text(errors="replace")]
        counts[fmt] = len(files)
    best = max(counts, key=counts.get)  # the first (most specific) among equals
    return best if counts[best] else "voc_classification"


def read_dataset(
    path: str | Path, tasks: Sequence[Task], *, task: Task | None = None, fmt: str | None = None, seed: int = 0
) -> ImportResult:
    """Read ``path`` as one of ``tasks`` (``task`` when given, else inferred from the annotations)."""
    path = Path(path)
    if not path.exists():
        msg = f"dataset path {path} does not exist; give a folder (or file) that holds the dataset"
        raise StudioError(msg)
    staged: list[dict] = []  # files left out of (or converted in) a staged copy of the folder
    if not fmt:
        try:
            fmt = detect_format(path, tasks, task)
        except StudioError as first:
            copy = stage_images(path) if path.is_dir() else None
            if copy is None:
                raise
            try:  # non-image files stopped the format detection: retry without them
                fmt = detect_format(copy[0], tasks, task)
            except StudioError:  # name the user's folder (never the staged copy) and what it holds
                zips = sorted(path.rglob("*.zip"))
                more = f" and {len(zips) - 1} more zips" if len(zips) > 1 else ""
                hint = (
                    f"; it holds {zips[0].relative_to(path)}{more}: import the zip itself"
                    f" (`python -m engine data import {zips[0]}`)"
                    if zips
                    else ""
                )
                raise StudioError(f"{first}{hint}") from None
            path, staged = copy
    if fmt not in Environment().importers:
        msg = f"unknown dataset format {fmt!r}; supported: {', '.join(supported_formats(tasks))}"
        raise StudioError(msg)
    try:
        raw = _import(path, fmt)
        items = list(raw)
    except Exception as exc:
        culprit = _failing_item_file(path, _root_cause(exc)) or _failing_source(path, fmt)
        where = f" (in {culprit})" if culprit else ""
        msg = f"could not read {path} as {fmt}{where}: {_root_cause(exc)}. Fix that file or pick another --format"
        raise StudioError(msg) from exc
    spec = task or _infer_task(items, fmt, tasks)
    labels = _label_names(raw)
    try:
        result = _clean(items, raw.categories(), spec, fmt, labels, seed)
    except NoUsableImages as exc:
        others = [t.name for t in tasks if t is not spec and task is None]
        if not others:
            raise
        msg = f"{exc} (read as {spec.name}: if the annotations are for another task, pass --task {'|'.join(others)})"
        raise StudioError(msg) from None
    result.problems[:0] = staged
    return result


class NoUsableImages(StudioError):
    """Nothing of the dataset could be used (every item skipped)."""


def _import(path: Path, fmt: str) -> dm.Dataset:
    """Datumaro's import; splits with different class sets are read one by one (see ``engine.data.folders``)."""
    try:
        raw = dm.Dataset.import_from(str(path), fmt)
        raw.categories()
        return raw
    except Exception as exc:
        if fmt.endswith("_with_subset_dirs") and "different categories" in _root_cause(exc):
            return import_subsets(path, fmt)
        raise


def _failing_item_file(path: Path, cause: str) -> str | None:
    """The file behind an item-level error: ``Failed to import item ('img4', 'val')`` names the item, not its
    annotation file; an undeclared mask colour names neither."""
    found = re.search(r"Failed to import item \('([^']+)'", cause)
    if found:
        stem = Path(found.group(1)).name
        files = [f for f in path.rglob(f"{stem}.*") if f.is_file()]
        annotations = [f for f in files if f.suffix.lower() in (".xml", ".json", ".txt")]
        return str((annotations or files)[0]) if files else None
    if "Undeclared color" in cause:
        return _off_palette_mask(path)
    return None


def _off_palette_mask(path: Path) -> str | None:
    """The first mask with a colour its folder's dataset_meta.json does not declare, and that colour."""
    import json

    import numpy as np
    from PIL import Image

    for meta in sorted(path.rglob("dataset_meta.json")):
        try:
            palette = {tuple(c) for c in json.loads(meta.read_text())["segmentation_colors"]}
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for mask in sorted((meta.parent / "masks").glob("*")):
            try:
                colours = np.unique(np.asarray(Image.open(mask).convert("RGB")).reshape(-1, 3), axis=0)
            except OSError:
                continue
            extra = [tuple(int(v) for v in c) for c in colours if tuple(int(v) for v in c) not in palette]
            if extra:
                return f"{mask}, colour {extra[0]} is not in {meta.name}"
    return None


def _failing_source(path: Path, fmt: str) -> str | None:
    """Datumaro's error rarely names the annotation file: import each of the format's sources on its own."""
    try:
        files = _source_files(Environment().importers[fmt].find_sources(str(path)))
    except Exception:
        return None
    if len(files) < 2:
        return files[0] if files and Path(files[0]) != path else None
    for file in files:
        try:
            list(dm.Dataset.import_from(file, fmt))
        except Exception:
            return file
    return None


def _source_files(sources) -> list[str]:
    """Annotation files out of ``find_sources``' result (a list of ``{"url": ...}`` or nested dicts)."""
    if isinstance(sources, str):
        return [sources] if Path(sources).is_file() else []
    if isinstance(sources, dict):
        if "url" in sources:
            return _source_files(sources["url"])
        return [f for value in sources.values() for f in _source_files(value)]
    if isinstance(sources, list | tuple):
        return [f for value in sources for f in _source_files(value)]
    return []


def _root_cause(exc: BaseException) -> str:
    """Datumaro wraps the real error (which names the bad file) in generic ones: report the innermost."""
    messages = []
    while exc is not None:
        messages.append(f"{type(exc).__name__}: {exc}".strip().rstrip("."))
        exc = exc.__cause__ or exc.__context__
    return messages[-1] if len(messages) == 1 else f"{messages[0]} ({messages[-1]})"


def _infer_task(items: list[dm.DatasetItem], fmt: str, tasks: Sequence[Task]) -> Task:
    present = {ann.type for item in items for ann in item.annotations}

    def fit(task: Task) -> tuple[int, bool]:  # the most annotation kinds used, then a task reading this format
        return len(present & set(task.annotations)), fmt in task.formats

    best = max(tasks, key=fit)  # the first in registry order among equals
    if fit(best)[0]:
        return best
    for task in tasks:  # no annotations at all: fall back to the format's task
        if fmt in task.formats:
            return task
    names = ", ".join(t.name for t in tasks)
    msg = f"the {fmt} dataset has no annotations a task here can use; pass --task ({names})"
    raise StudioError(msg)


def _label_names(dataset: dm.Dataset) -> list[str]:
    cats = dataset.categories().get(dm.AnnotationType.label)
    return [c.name for c in cats.items] if cats else []


def _clean(
    items: list[dm.DatasetItem], categories: dict, spec: Task, fmt: str, labels: list[str], seed: int
) -> ImportResult:
    problems: list[dict] = []
    kept: list[tuple[dm.DatasetItem, list[int], tuple[int, int], str]] = []  # item, classes, size, digest
    for item in items:
        target, problem = spec.extract_target(item, labels)
        where = _item_file(item)
        if problem:
            action = "skipped" if target is None else "kept"
            problems.append({"kind": problem[0], "file": where, "message": problem[1], "action": action})
            if target is None:
                continue
        check = check_image(where) if where else None
        if check is None or not check.ok:
            reason = check.error if check else "item has no image file"
            problems.append({"kind": "corrupt image", "file": where, "message": reason, "action": "skipped"})
            continue
        kept.append((item, spec.classes_of(target), (check.width, check.height), check.digest))

    kept = _drop_split_overlap(kept, problems)
    if not kept:
        msg = "the dataset has no usable images" + (
            f" ({len(problems)} skipped, first: {problems[0]['file']}: {problems[0]['message']})" if problems else ""
        )
        raise NoUsableImages(msg + "; check the annotations and image files")
    used = sorted({c for _, classes, _, _ in kept for c in classes})
    if spec.min_classes and len(used) < spec.min_classes:
        dropped = [p for p in problems if p["action"] == "kept" and p["kind"] != "empty class"]
        if not used and dropped:  # annotations were there but none was usable: say which and why
            msg = (
                f"no usable {spec.count_unit if spec.count_unit != 'images' else 'annotations'} in the dataset:"
                f" {len(dropped)} image(s) had theirs dropped, first: {dropped[0]['file']}: {dropped[0]['message']};"
                " fix the annotations"
            )
            raise StudioError(msg)
        names = ", ".join(labels[i] for i in used) or "none"
        need = "another class" if spec.min_classes - len(used) == 1 and used else "images of more classes"
        msg = (
            f"{spec.name} needs at least {spec.min_classes} class{'es' if spec.min_classes > 1 else ''} with images,"
            f" found {len(used)} ({names}); add {need}"
        )
        raise StudioError(msg)
    strata = [min(classes, default=-1) for _, classes, _, _ in kept]  # stratify by the first class present
    splits = assign_splits([it.subset for it, *_ in kept], strata, seed=seed)
    out_items, sizes, seen = [], {}, set()
    for (item, _target, size, _), split in zip(kept, splits, strict=True):
        item_id = item.id if (item.id, split) not in seen else f"{item.subset}/{item.id}"
        seen.add((item_id, split))
        out_items.append(item.wrap(id=item_id, subset=split))
        sizes[f"{split}/{item_id}"] = size
    for name in (name for i, name in enumerate(labels) if i not in set(used)):
        problems.append(
            {"kind": "empty class", "file": "", "message": f"class {name!r} has no images", "action": "kept"}
        )
    dataset = dm.Dataset.from_iterable(out_items, categories=categories)
    return ImportResult(dataset, spec.name, fmt, labels, problems, sizes)


def _drop_split_overlap(kept: list, problems: list[dict]) -> list:
    """The same image in two splits leaks test data into training: keep only its test/val copy."""
    best: dict[str, tuple[int, int]] = {}
    for index, (item, _, _, digest) in enumerate(kept):
        rank = _SPLIT_PRIORITY.get(canonical_subset(item.subset), 3)
        if digest not in best or rank < best[digest][0]:
            best[digest] = (rank, index)
    out = []
    for index, entry in enumerate(kept):
        item, _, _, digest = entry
        if best[digest][1] == index:
            out.append(entry)
            continue
        keeper = kept[best[digest][1]][0]
        if canonical_subset(keeper.subset) != canonical_subset(item.subset):
            message = f"same image as {keeper.subset}/{keeper.id} (split overlap)"
        else:
            message = f"duplicate of {keeper.subset}/{keeper.id}"
        problems.append({"kind": "duplicate", "file": _item_file(item), "message": message, "action": "skipped"})
    return out


def _item_file(item: dm.DatasetItem) -> str:
    media = item.media
    return original(str(getattr(media, "path", "") or "")) if media is not None else ""
