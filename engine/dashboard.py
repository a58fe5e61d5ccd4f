"""Helpers the dashboard needs beside the verbs: task and variant tables, drawing, uploads, loaded models.

Pages and ``ui/`` import only :mod:`engine`; these are the non-verb parts of that facade (they have no CLI
twin because they hand back Python objects: images, compiled models, bytes on their way in).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.images import read_rgb
from engine.errors import StudioError
from engine.inference.predictor import Predictor
from engine.pipeline import datasets
from engine.pipeline.context import Context
from engine.pipeline.optimizing import variant_predictor
from engine.store.workspace import resolve_root
from engine.tasks import get_task
from engine.training.config import TrainConfig

Workspace = str | Path | None


def workspace_root(workspace: Workspace = None) -> Path:
    """The workspace folder the verbs use (``$STUDIO_WORKSPACE`` or ``./workspace`` by default)."""
    return resolve_root(workspace)


def sample_plans(*, workspace: Workspace = None) -> dict[str, dict]:
    """Task -> what its sample project trains on this CPU and why: ``{"settings", "why", "project", "chosen"}``
    (the task's INT8-friendly architecture where INT8 pays off for it on a CPU like this one, else its default)."""
    from engine.pipeline.demo import sample_plans as plans

    return plans(Context.open(workspace))


def training_defaults(task: str, dataset: int | None = None, *, workspace: Workspace = None) -> dict:
    """The Train form's starting values: the task's architectures (name -> summary), what INT8 buys each on this
    CPU (name -> short text: measured here with ``measure_int8``, else the committed zoo table) and the resolved
    settings — with a
    ``dataset`` the input size follows its images (``chosen["img_size"]`` says why)."""
    from engine.benchmark.machine import isa
    from engine.choices import AUGMENT, BALANCE
    from engine.models import zoo
    from engine.pipeline.int8_gains import measured_here
    from engine.pipeline.search_grid import search_sizes
    from engine.pipeline.weights_store import list_weights

    ctx = Context.open(workspace)
    info = ctx.db.get_dataset(dataset)["info"] if dataset is not None else None
    config = TrainConfig(task=task).resolved(info)
    spec = get_task(task)
    archs = spec.archs
    gains = zoo.int8_gains(task, isa(), measured_here(ctx))
    return {
        **config.to_dict(),
        "augments": {name: AUGMENT[name] for name in spec.augments},
        "balances": {name: BALANCE[name] for name in spec.balances if name != "auto"},
        "archs": {name: arch.summary for name, arch in archs.items()},
        "arch_defaults": {name: dict(spec.arch_train_defaults.get(name, {})) for name in archs},
        "int8": {name: gain.text() for name, gain in gains.items()},
        "int8_short": {
            name: f"INT8 {gain.speedup:.1f}x at {gain.size} px"
            + (", here" if gain.here else "" if gain.same_tier else ", elsewhere")
            for name, gain in gains.items()
        },
        "weights": {row["arch"]: row["present"] for row in list_weights() if row["task"] == task},
        "search_sizes": search_sizes(spec, config.img_size),  # what a search tries when no sizes are given
    }


def save_upload(name: str, data: bytes, *, workspace: Workspace = None) -> str:
    """Keep an uploaded dataset zip in the workspace; import the returned path with ``import_dataset``."""
    return str(datasets.save_upload(Context.open(workspace), name, data))


def read_image(source: str | Path | io.IOBase | Any, name: str = "") -> np.ndarray:
    """An RGB ``uint8`` array from a path or an uploaded file; one clear error for anything not an image."""
    from PIL import UnidentifiedImageError

    try:
        return read_rgb(source)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        what = name or getattr(source, "name", "") or str(source)
        msg = f"{what} is not an image this app can read ({type(exc).__name__}); use a PNG, JPEG, BMP or WebP file"
        raise StudioError(msg) from None


def gallery(dataset: int, split: str = "train", *, count: int = 12, workspace: Workspace = None) -> list[tuple]:
    """``(image with its annotations drawn, caption)`` for ``count`` evenly spaced images of a split."""
    ctx = Context.open(workspace)
    row = ctx.db.get_dataset(dataset)
    task, labels = ctx.task(row), row["info"]["labels"]
    rows = datasets.dataset_samples(ctx, dataset, split, count=count)
    return [(task.draw(read_image(r["image"]), task.ground_truth(r["target"]), labels), r["caption"]) for r in rows]


def variant_file(run: int, variant: str, *, workspace: Workspace = None) -> Path:
    """The file a variant lives in (``best.pt`` or ``model.xml``); its mtime tells when it was rebuilt."""
    ctx = Context.open(workspace)
    return ctx.variant_path(ctx.run(run), variant)


def load_model(run: int, variant: str, *, device: str = "CPU", workspace: Workspace = None) -> Predictor:
    """A variant ready to ``predict([image])`` and ``draw(image, prediction)``, compiled with the device's
    default precision and warmed up (the first requests of a fresh model are slow)."""
    ctx = Context.open(workspace)
    model = variant_predictor(ctx, ctx.run(run), variant, device, config={})
    model.predict([np.zeros((model.img_size, model.img_size, 3), np.uint8)] * 3)
    return model


def explain(original: Predictor, optimized: Predictor, image: np.ndarray, *, masks: int = 300) -> dict:
    """RISE maps of two loaded models for the original's prediction (what ``saliency`` computes), as overlays:
    ``{"explained", "similarity", "seconds", "masks", "overlays": {"original", "optimized"}}``."""
    from engine.inference.saliency import overlay
    from engine.pipeline.explaining import explain_pair

    result = explain_pair(original, optimized, image, masks=masks)
    maps = result.pop("maps")
    return {**result, "overlays": {role: overlay(image, m) for role, m in maps.items()}}


def live_feed(run: int, *, count: int = 12, workspace: Workspace = None):
    """The booth's looping video over ``count`` evenly spaced test images of the run's dataset (a
    :class:`engine.inference.live.LoopingFeed`; ``feed.frame(i)`` is frame ``i``)."""
    from engine.inference.live import LoopingFeed

    ctx = Context.open(workspace)
    run_row = ctx.run(run)
    rows = datasets.dataset_samples(ctx, run_row["dataset_id"], "test", count=count, captions=False)
    if not rows:
        msg = f"run {run}'s dataset has no test images to loop over; import one with a test split"
        raise StudioError(msg)
    return LoopingFeed([read_rgb(r["image"]) for r in rows], size=384)


def job_log_tail(job: int, lines: int = 12, *, workspace: Workspace = None) -> list[str]:
    """The job log's last lines, without progress-bar noise (from the Ray cluster for a Ray job)."""
    from engine.jobs.queue import log_tail

    ctx = Context.open(workspace)
    return log_tail(ctx, ctx.db.get_job(int(job)), lines)


def qat_progress(run: int, *, workspace: Workspace = None) -> dict | None:
    """The newest quantization-aware training of a run: ``{"epoch", "epochs", "eta_s", "status"}`` or None."""
    from engine.store.atomic import read_jsonl

    ctx = Context.open(workspace)
    path = ctx.run_dir(ctx.run(run)) / "qat" / "events.jsonl"
    events = read_jsonl(path) if path.is_file() else []
    starts = [i for i, e in enumerate(events) if e["type"] in ("start", "resume")]
    if not starts:
        return None
    session = events[starts[-1] :]
    epochs = next((e["epochs"] for e in reversed(events) if "epochs" in e), 0)
    done = [e for e in session if e["type"] == "epoch"]
    last = session[-1]["type"]
    return {
        "epoch": done[-1]["epoch"] if done else session[0].get("epoch", 0),
        "epochs": epochs,
        "eta_s": done[-1]["eta_s"] if done else None,
        "status": {"end": "finished", "cancelled": "cancelled"}.get(last, "running"),
    }


def job_progress(job: dict, *, workspace: Workspace = None) -> dict:
    """A job row's stage, epoch, ETA and a 0..1 fraction for a progress bar (see :mod:`engine.pipeline.progress`)."""
    from engine.pipeline.progress import job_progress as progress

    return progress(Context.open(workspace), job)


ANALYSES = ("sensitivity", "calibration_sweep")  # verbs whose newest result is kept in the run folder


def saved_analysis(run: int, verb: str, *, workspace: Workspace = None) -> dict | None:
    """The newest result of ``sensitivity`` or ``calibration_sweep`` for a run (None before the first)."""
    from engine.store.atomic import read_json

    if verb not in ANALYSES:
        msg = f"no saved analysis {verb!r}; saved: {', '.join(ANALYSES)}"
        raise StudioError(msg)
    ctx = Context.open(workspace)
    path = ctx.run_dir(ctx.run(run)) / f"{verb}.json"
    return read_json(path) if path.is_file() else None


def explain_failure(exc: Exception, where: str) -> str:
    """The dashboard's error boundary: one line for the page (a bug's traceback goes to the error log)."""
    from engine.failures import report

    try:
        root = workspace_root()
    except Exception:
        root = None
    return report(exc, root if root is not None and root.is_dir() else None, f"page {where}").message


def run_settings(shown: dict) -> list[dict]:
    """A run's (``show_run``) settings as rows for a table: what was asked and what was used, each named."""
    from engine.pipeline.runs import settings_rows

    return settings_rows(shown)


def confusions(run: int, variants: list[str], *, workspace: Workspace = None) -> dict:
    """The test-split confusion matrices of ``variants`` (classification) as chart cells, and per class each one's
    recall and precision; empty for a task without a confusion matrix."""
    ctx = Context.open(workspace)
    row = ctx.run(run)
    labels = ctx.db.get_dataset(row["dataset_id"])["info"]["labels"]
    stored = {v["name"]: v["metrics"].get("metrics", {}) for v in ctx.db.list_variants(row["id"])}
    cells, per_class = [], {name: {"class": name} for name in labels}
    for variant in variants:
        metrics = stored.get(variant, {})
        if "confusion" not in metrics:
            continue
        for i, counts in enumerate(metrics["confusion"]):
            cells += [{"variant": variant, "true": labels[i], "predicted": labels[j], "images": int(n)}
                      for j, n in enumerate(counts)]  # fmt: skip
        for name in labels:
            per_class[name][f"{variant} recall"] = metrics.get("per_class_recall", {}).get(name)
            per_class[name][f"{variant} precision"] = metrics.get("per_class_precision", {}).get(name)
    return {"cells": cells, "per_class": list(per_class.values()) if cells else []}


def variant_options() -> list[dict]:
    """The Optimize page's forms, one per variant settings class (engine/export/variants/): its title and
    caption, the variants it shapes, and each option (facade parameter, label, help, type, default, choices,
    bounds) — the same options the facade's ``optimize`` takes and the CLI makes flags of."""
    import dataclasses

    from engine.export.variants import options

    return [
        {"title": k.title, "caption": k.caption, "variants": names, "options": [dataclasses.asdict(o) for o in opts]}
        for k, names, opts in options()
    ]
