"""Class-folder datasets (ImageNet layout) as users actually have them, read through Datumaro.

Datumaro's ImageNet readers refuse three kinds of valid folders, each fixed here without changing what is
imported:

- item ids are ``<class>:<file>``, which for a one-letter class (``a/x.png`` -> ``a:x``) looks like a Windows
  drive and is rejected: ids use ``/`` instead (``a/x``, the file's own path);
- ``imagenet_with_subset_dirs`` refuses splits whose class sets differ (a class with no val images): each
  split is read on its own and the label sets are united;
- one file that is not an image (a ``.gif``, ``Thumbs.db``, a README) makes format detection fail: a staged
  copy of the tree (symlinks) holds the images, GIFs converted to PNG, and the other files are listed as
  skipped.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import datumaro as dm
from datumaro.plugins.data_formats import imagenet
from datumaro.util.image import IMAGE_EXTENSIONS
from PIL import Image

imagenet.ImagenetPath.SEP_TOKEN = "/"  # "a:x" reads as a drive-qualified path; "a/x" is the file's path

CONVERTIBLE = (".gif",)  # decoded by PIL, not by Datumaro's readers: converted to PNG in the staged copy
_STAGED: list[Path] = []


def import_subsets(path: Path, fmt: str) -> dm.Dataset:
    """``fmt`` ending in ``_with_subset_dirs``: each split imported alone, labels united (sorted, as Datumaro
    orders class folders), annotations re-indexed."""
    base = fmt.removesuffix("_with_subset_dirs")
    parts = {sub.name: dm.Dataset.import_from(str(sub), base) for sub in sorted(path.iterdir()) if sub.is_dir()}
    names = sorted({c.name for d in parts.values() for c in d.categories()[dm.AnnotationType.label].items})
    index = {name: i for i, name in enumerate(names)}
    items = []
    for subset, part in parts.items():
        own = [c.name for c in part.categories()[dm.AnnotationType.label].items]
        for item in part:
            anns = [
                a.wrap(label=index[own[a.label]]) if getattr(a, "label", None) is not None else a
                for a in item.annotations
            ]
            items.append(item.wrap(subset=subset, annotations=anns))
    return dm.Dataset.from_iterable(
        items, categories={dm.AnnotationType.label: dm.LabelCategories.from_iterable(names)}
    )


def stage_images(path: Path) -> tuple[Path, list[dict]] | None:
    """A copy of ``path`` (symlinks) without the files Datumaro's folder readers choke on, or None when
    there are none. Returns the staged root and the problems (skipped or converted files)."""
    odd = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() not in IMAGE_EXTENSIONS]
    if not odd:
        return None
    root = Path(tempfile.mkdtemp(prefix="studio-staged-"))
    _STAGED.append(root)
    problems = []
    for source in path.rglob("*"):
        target = root / source.relative_to(path)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        suffix = source.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source.resolve())
        elif suffix in CONVERTIBLE and _to_png(source, target.with_suffix(".png")):
            problems.append(_problem("converted", source, f"{suffix} image converted to PNG", "converted"))
        elif not source.name.startswith("."):
            problems.append(
                _problem("not an image", source, f"{suffix or 'no extension'} is not an image type", "skipped")
            )
    return root, problems


def original(path: str) -> str:
    """The user's file behind a staged symlink (problems name the user's files, never the staging copy)."""
    return os.path.realpath(path) if path and Path(path).is_symlink() else path


def _to_png(source: Path, target: Path) -> bool:
    try:
        with Image.open(source) as im:
            target.parent.mkdir(parents=True, exist_ok=True)
            im.convert("RGB").save(target)
        return True
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def _problem(kind: str, file: Path, message: str, action: str) -> dict:
    return {"kind": kind, "file": str(file), "message": message, "action": action}


@atexit.register
def _cleanup() -> None:
    for root in _STAGED:
        shutil.rmtree(root, ignore_errors=True)
