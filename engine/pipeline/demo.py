"""The "Load sample project" verb: write the built-in sample into the workspace, import it, train it,
then optimize it (FP32, FP16, INT8) and benchmark every variant briefly, so a first-time visitor gets the
whole pipeline from one click.

``STUDIO_DEMO_TINY=1`` shrinks it (the task's tiny sample, ``$STUDIO_DEMO_EPOCHS`` epochs, default 2)
for browser tests and quick demos.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from engine import tracking
from engine.export.variants import DEFAULT_OPTIMIZE
from engine.pipeline.benchmarking import benchmark
from engine.pipeline.context import Context
from engine.pipeline.datasets import import_dataset
from engine.pipeline.optimizing import optimize
from engine.pipeline.training import train
from engine.status import RunStatus
from engine.tasks import get_task


def demo(ctx: Context, task: str, *, on_run: Callable[[int], None] | None = None) -> dict:
    spec = get_task(task)
    tiny = os.environ.get("STUDIO_DEMO_TINY") == "1"
    folder = ctx.ws.root / "samples" / (f"{spec.name}-tiny" if tiny else spec.name)
    if not folder.is_dir():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        spec.write_sample(partial, tiny=tiny)
        partial.rename(folder)
    existing = [d for d in ctx.db.list_datasets() if d["source"] == str(folder.resolve()) and d["info"]]
    dataset = existing[-1]["id"] if existing else import_dataset(ctx, folder, name=f"sample {spec.name}")["dataset"]
    settings = {"epochs": int(os.environ.get("STUDIO_DEMO_EPOCHS", "2"))} if tiny else {}
    trained = tracking.after("train", ctx, train(ctx, dataset, on_run=on_run, **settings))
    if trained["status"] == RunStatus.CANCELLED:
        return {"dataset": dataset, **trained}
    optimized = tracking.after("optimize", ctx, optimize(ctx, trained["run"], variants=list(DEFAULT_OPTIMIZE)))
    measured = benchmark(ctx, trained["run"], precisions=["default", "f32"], iterations=100)
    measured = tracking.after("benchmark", ctx, measured)
    return {
        "dataset": dataset,
        **trained,
        "variants": {name: v[optimized["primary_metric"]] for name, v in optimized["variants"].items()},
        "benchmarks": len(measured["results"]),
    }
