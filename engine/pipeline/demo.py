"""The "Load sample project" verb: write the built-in sample into the workspace, import it, train it,
then optimize it (FP32, FP16, INT8) and benchmark every variant briefly, so a first-time visitor gets the
whole pipeline from one click.

``STUDIO_DEMO_TINY=1`` shrinks it (a few dozen training images, ``$STUDIO_DEMO_EPOCHS`` epochs, default 2)
for browser tests and quick demos.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable

from engine.errors import choice_error
from engine.export.variants import DEFAULT_OPTIMIZE
from engine.pipeline.benchmarking import benchmark
from engine.pipeline.context import Context
from engine.pipeline.datasets import SAMPLES, import_dataset
from engine.pipeline.optimizing import optimize
from engine.pipeline.training import train

TINY = {  # SampleConfig overrides of the 1-minute version
    "classification": {"per_class": (("train", 60), ("val", 10), ("test", 10))},
    "detection": {"splits": (("train", 48), ("val", 8), ("test", 8))},
    "segmentation": {"splits": (("train", 48), ("val", 8), ("test", 8))},
}


def demo(ctx: Context, task: str = "classification", *, on_run: Callable[[int], None] | None = None) -> dict:
    if task not in SAMPLES:
        raise choice_error("sample task", task, list(SAMPLES))
    sample = importlib.import_module(SAMPLES[task])
    tiny = os.environ.get("STUDIO_DEMO_TINY") == "1"
    folder = ctx.ws.root / "samples" / (f"{task}-tiny" if tiny else task)
    if not folder.is_dir():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        sample.generate(partial, sample.SampleConfig(**(TINY[task] if tiny else {})))
        partial.rename(folder)
    existing = [d for d in ctx.db.list_datasets() if d["source"] == str(folder.resolve()) and d["info"]]
    dataset = existing[-1]["id"] if existing else import_dataset(ctx, folder, name=f"sample {task}")["dataset"]
    settings = {"epochs": int(os.environ.get("STUDIO_DEMO_EPOCHS", "2"))} if tiny else {}
    trained = train(ctx, dataset, on_run=on_run, **settings)
    if trained["status"] == "cancelled":
        return {"dataset": dataset, **trained}
    optimized = optimize(ctx, trained["run"], variants=list(DEFAULT_OPTIMIZE))
    measured = benchmark(ctx, trained["run"], precisions=["default", "f32"], iterations=100)
    return {
        "dataset": dataset,
        **trained,
        "variants": {name: v[optimized["primary_metric"]] for name, v in optimized["variants"].items()},
        "benchmarks": len(measured["results"]),
    }
