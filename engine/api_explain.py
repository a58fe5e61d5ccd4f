"""Explaining a run: where its models look (saliency) and the run's report card."""

from __future__ import annotations

from pathlib import Path

from engine import lazy, tracking
from engine.pipeline.context import Context
from engine.results import ReportResult, SaliencyResult

explaining = lazy.module("engine.pipeline.explaining")
report_card = lazy.module("engine.pipeline.report_card")

Workspace = str | Path | None


def saliency(
    run: int,
    *,
    image: str | None = None,
    index: int = 0,
    a: str = "torch-fp32",
    b: str = "int8",
    masks: int = 300,
    save: str | None = None,
    workspace: Workspace = None,
) -> SaliencyResult:
    """RISE saliency maps of two variants for the original's prediction on one image (a file, else the test
    split's ``index``-th), with the same masks, and how alike the maps are; ``save`` writes the overlays.

    Python: ``engine.saliency(3, index=5, b="int8")["similarity"]["correlation"]``
    CLI:    ``python -m engine saliency 3 --index 5 --b int8 --save out/``
    """
    return explaining.saliency(Context.open(workspace), run, image=image, index=index, a=a, b=b, masks=masks, save=save)


def report(run: int, *, out: str | None = None, workspace: Workspace = None) -> ReportResult:
    """Write the run's report card: one self-contained HTML file (machine, versions, settings, curves,
    variants, benchmark charts, sample predictions) that opens offline.

    Python: ``engine.report(3)["path"]``      CLI: ``python -m engine report 3 [--out card.html]``
    """
    ctx = Context.open(workspace)
    return tracking.after("report", ctx, report_card.report(ctx, run, out=out))
