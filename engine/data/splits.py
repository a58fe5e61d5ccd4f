"""Seeded, stratified train/val/test assignment for datasets that come without (all of) their splits."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

DEFAULT_FRACTIONS = {"val": 0.15, "test": 0.15}

# Datumaro subset names seen in the wild, mapped to ours. Anything else joins the pool to be split.
SUBSET_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


def canonical_subset(name: str | None) -> str | None:
    return SUBSET_ALIASES.get((name or "").lower())


def assign_splits(
    subsets: list[str | None],
    strata: list[int],
    *,
    seed: int = 0,
    fractions: dict[str, float] | None = None,
) -> list[str]:
    """Return a split name per item.

    Items already in a train/val/test subset keep it. Every split that is missing is carved out of the
    pool (train items plus items in unknown subsets), stratified by ``strata`` (the class of each item),
    so each class keeps its share in every split. What remains of the pool is train.
    """
    fractions = {**DEFAULT_FRACTIONS, **(fractions or {})}
    given = [canonical_subset(s) for s in subsets]
    present = {s for s in given if s}
    missing = [s for s in ("val", "test") if s not in present]
    out = [s if s in ("val", "test") else "train" for s in given]
    if not missing:
        return out
    pool = [i for i, s in enumerate(given) if s not in ("val", "test")]
    by_class: dict[int, list[int]] = defaultdict(list)
    for i in pool:
        by_class[strata[i]].append(i)
    class_sizes = Counter(strata)
    rng = np.random.default_rng(seed)
    for cls in sorted(by_class):
        members = by_class[cls]
        rng.shuffle(members)
        start = 0
        for split in missing:
            want = round(fractions[split] * class_sizes[cls])
            take = min(want, max(len(members) - start - 1, 0))  # always leave >= 1 item to train
            for i in members[start : start + take]:
                out[i] = split
            start += take
    return out
