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
from engine.tasks import TASKS, get_task


def sample_plan(ctx: Context, task: str) -> dict:
    """What the sample project trains on this CPU and why: the task's INT8-friendly recipe where INT8 pays off for
    its architecture on a CPU of this one's ISA tier (the committed zoo table, or this CPU's own ``measure-int8``),
    else the default architecture (the fastest in float). ``{"settings", "why", "project", "chosen"}``: ``chosen`` is
    the reason for each setting, recorded in the run."""
    from engine.benchmark.machine import isa
    from engine.pipeline.int8_gains import measured_here

    return _plan(task, isa(), measured_here(ctx))


def sample_plans(ctx: Context) -> dict[str, dict]:
    """:func:`sample_plan` of every task, with this CPU's flags and measurements read once (Home shows them all)."""
    from engine.benchmark.machine import isa
    from engine.pipeline.int8_gains import measured_here

    flags, here = isa(), measured_here(ctx)
    return {task: _plan(task, flags, here) for task in TASKS}


def _plan(task: str, flags: list[str], here: list[dict]) -> dict:
    from engine.models import zoo

    spec = get_task(task)
    recipe = spec.sample
    if recipe.int8_training:
        arch = recipe.int8_training["model"]
        gain = zoo.int8_gains(task, flags, here).get(arch)
        if gain is not None and gain.same_tier and gain.speedup >= zoo.PAYS_OFF:
            why = f"{arch}, which INT8 speeds up {gain.speedup:.2f}x over its FP32 IR at {gain.size} px ({gain.where})"
            chosen = {k: f"the sample project's setting for {arch}" for k in recipe.int8_training} | {"model": why}
            settings = dict(recipe.int8_training)
            return {"settings": settings, "why": why, "project": recipe.int8_project, "chosen": chosen}
        measured = (
            f"{arch} gains only {gain.speedup:.2f}x from INT8 at {gain.size} px, {gain.where}"
            if gain is not None and gain.same_tier
            else f"INT8's gain for {arch} is not measured on a CPU like this one"
        )
        why = f"{spec.default_arch}, the {task} default and the fastest in float ({measured})"
    else:
        why = f"{spec.default_arch}, the {task} default"
    return {"settings": {}, "why": why, "project": recipe.project, "chosen": {"model": why}}


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
    plan = sample_plan(ctx, task)
    settings = {**plan["settings"], "chosen": plan["chosen"]}
    if tiny:
        settings["epochs"] = int(os.environ.get("STUDIO_DEMO_EPOCHS", "2"))
        settings["chosen"] = {**settings["chosen"], "epochs": "the tiny sample project ($STUDIO_DEMO_EPOCHS)"}
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
