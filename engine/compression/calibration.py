"""The INT8 calibration subset: which images, how well they cover the classes, and whether they leak.

NNCF sets every activation's range from the calibration images, so they should look like what the model
will see, cover every class, and never be images the model is then scored on: a calibration image that is
also in the val or test split makes those scores look better than they are. Overlap is found by content:
SHA-256 of the decoded pixels, so a copy under another name, in another folder or saved again in another
lossless file (PNG with other settings or metadata, BMP, TIFF) is caught too. (Import already drops
byte-identical copies across splits; a re-saved copy has other bytes and gets through it.)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.data.images import read_rgb
from engine.errors import StudioError

EXAMPLES = 5  # overlapping files named in a report


def calibration_subset(samples: list, size: int, seed: int = 0) -> list:
    """A seeded random subset of ``samples`` (all of them when there are fewer, or when ``size`` is 0)."""
    if size < 0:
        msg = f"calibration size must be at least 1 (0 = every image of the split), got {size}"
        raise StudioError(msg)
    if size == 0 or len(samples) <= size:
        return list(samples)
    rng = np.random.default_rng(seed)
    return [samples[i] for i in sorted(rng.choice(len(samples), size=size, replace=False))]


def content_hash(path: str | Path) -> str:
    """SHA-256 of the image's decoded RGB pixels and shape: the same for every file that shows them. Cached per
    file version, so a sweep's sizes (and optimize's variants) decode the val and test images once."""
    stat = Path(path).stat()
    return _pixel_hash(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=100_000)
def _pixel_hash(path: str, size: int, mtime_ns: int) -> str:
    pixels = np.ascontiguousarray(read_rgb(path))
    return hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).hexdigest()


def overlap(subset: Sequence[tuple[str, object]], splits: Mapping[str, Sequence[tuple[str, object]]]) -> dict:
    """Per split (e.g. val, test): how many calibration images have the same content as one of its images,
    with a few examples ``{"calibration": path, "split_image": path}``."""
    if not splits:
        return {}
    mine: dict[str, str] = {}
    for path, _ in subset:
        mine.setdefault(content_hash(path), path)
    report = {}
    for split, samples in splits.items():
        shared = []
        for path, _ in samples:
            digest = content_hash(path)
            if digest in mine:
                shared.append({"calibration": mine[digest], "split_image": path})
        report[split] = {"images": len(shared), "examples": shared[:EXAMPLES]}
    return report


def coverage(task, labels: list[str], subset: Sequence[tuple[str, object]]) -> list[dict]:
    """Per class: the calibration images showing it (every class, zero included), in label order."""
    counts = Counter(c for _, target in subset for c in set(task.classes_of(target)))
    total = len(subset) or 1
    return [
        {"class": name, "images": counts.get(i, 0), "share": counts.get(i, 0) / total} for i, name in enumerate(labels)
    ]


def describe(task, labels: list[str], split: str, subset: list, others: Mapping[str, list]) -> dict:
    """What one optimize call calibrated on: split, size, per-class coverage, overlap with ``others``, and
    the warnings a user must see (overlap, classes with no calibration image)."""
    report = {
        "split": split,
        "images": len(subset),
        "coverage": coverage(task, labels, subset),
        "overlap": overlap(subset, others),
    }
    report["warnings"] = warnings(report)
    return report


def warnings(report: dict) -> list[str]:
    out = []
    if report["split"] == "val":
        out.append(
            "calibrating on the val split: val scores (int8-acc's accuracy check, sensitivity) see the calibration"
            " images; the test split stays unseen"
        )
    for split, found in report["overlap"].items():
        if found["images"]:
            example = found["examples"][0]
            out.append(
                f"{found['images']} of the {report['images']} calibration images (from {report['split']}) are also in"
                f" the {split} split (same content, e.g. {Path(example['calibration']).name} ="
                f" {Path(example['split_image']).name}): {split} scores of INT8 variants are optimistic; calibrate"
                " on another split or remove the duplicates"
            )
    missing = [row["class"] for row in report["coverage"] if not row["images"]]
    if missing:
        out.append(
            f"no calibration image shows {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}: activation"
            " ranges may not fit them; use a larger --calib-size"
        )
    return out
