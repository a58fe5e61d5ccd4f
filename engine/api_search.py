"""The search verbs: the fastest model above an accuracy floor, and the searches made so far."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine import lazy
from engine.choices import SEARCH_PRUNE_RATIO, SEARCH_VARIANTS
from engine.pipeline.context import Context
from engine.results import SearchResult

searching = lazy.module("engine.pipeline.searching")
search_store = lazy.module("engine.pipeline.search_store")

Workspace = str | Path | None


def search(
    dataset: int | None = None,
    *,
    max_drop: float | None = None,
    device: str = "CPU",
    budget_minutes: float = 20.0,
    archs: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    variants: Sequence[str] = SEARCH_VARIANTS,
    prune_ratio: float = SEARCH_PRUNE_RATIO,
    resume: int | None = None,
    workspace: Workspace = None,
) -> SearchResult:
    """The fastest model that keeps the accuracy on this device: train architecture x input size candidates
    within the time budget, optimize each (int8, int8-qat, pruned-int8), benchmark each beside the reference
    (the task's default model, FP32 IR) and pick the fastest point whose test metric is at most ``max_drop``
    below the reference's (default: the task's, 0.5 pp top-1 / 1 mAP point / 0.5 mIoU point).

    ``archs`` default to every architecture of the task, ``sizes`` to its default input, a half, three quarters
    and one and a half of it (multiples of 16). ``pruned-int8`` removes ``prune_ratio`` of the channels (more than
    optimize's 0.3: each point is checked against the floor). A cancelled or crashed search continues with
    ``resume=ID``; finished candidates are not redone.

    Python: ``engine.search(1, budget_minutes=15, archs=["mobilenet_v3_small", "resnet18"])``
    CLI:    ``python -m engine search --dataset 1 --budget-minutes 15 --archs mobilenet_v3_small,resnet18``
    """
    return searching.search(
        Context.open(workspace),
        dataset,
        max_drop=max_drop,
        device=device,
        budget_minutes=budget_minutes,
        archs=archs,
        sizes=sizes,
        variants=variants,
        prune_ratio=prune_ratio,
        resume=resume,
    )


def list_searches(*, workspace: Workspace = None) -> list[SearchResult]:
    """Python: ``engine.list_searches()``      CLI: ``python -m engine searches list``"""
    return search_store.list_searches(Context.open(workspace))


def show_search(search: int, *, workspace: Workspace = None) -> SearchResult:
    """Python: ``engine.show_search(1)``      CLI: ``python -m engine searches show 1``"""
    return search_store.show_search(Context.open(workspace), search)
