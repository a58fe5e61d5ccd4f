"""The engine's public face. Each verb is one page action and one CLI subcommand (``VERBS``).

Every verb takes ``workspace=`` (default: ``$STUDIO_WORKSPACE`` or ``./workspace``) and returns one of the
result types of :mod:`engine.results`, which the CLI prints (``--json`` for the machine form) and the
dashboard renders. Lists are typed sequences (``devices=["CPU", "AUTO"]``); comma lists are the CLI's job.
The helpers at the end serve the dashboard (drawing, uploads, loaded models) and have no CLI twin.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine import jobs as job_queue
from engine import lazy, tracking
from engine.api_benchmark import benchmark, benchmark_table, devices, measure_int8, profile
from engine.api_explain import report, saliency
from engine.api_jobs import cancel_job, job_logs, list_jobs, repair_workspace
from engine.api_quantization import calibration_sweep, sensitivity
from engine.api_search import list_searches, search, show_search
from engine.api_weights import fetch_weights, import_weights, list_weights
from engine.choices import CALIB_SIZE
from engine.errors import StudioError, choice_error
from engine.export.variants import settings_from, with_settings
from engine.pipeline.context import Context
from engine.results import (
    CompareResult,
    DatasetInfo,
    DatasetRow,
    DemoResult,
    DeployResult,
    EvaluateResult,
    JobRow,
    OptimizeResult,
    PredictResult,
    RunDetail,
    RunRow,
    SampleResult,
    SampleRow,
    TrainResult,
    VariantTable,
)
from engine.tasks import DEFAULT_TASK, all_formats

# the pipeline is imported when a verb runs: the CLI's help, lists and jobs verbs start without torch
comparing = lazy.module("engine.pipeline.comparing")
datasets = lazy.module("engine.pipeline.datasets")
deploying = lazy.module("engine.pipeline.deploying")
optimizing = lazy.module("engine.pipeline.optimizing")
predicting = lazy.module("engine.pipeline.predicting")
runs = lazy.module("engine.pipeline.runs")
training = lazy.module("engine.pipeline.training")
demo_project = lazy.module("engine.pipeline.demo")

Workspace = str | Path | None


# --- data -----------------------------------------------------------------------------------------------
def sample(task: str, out: str, *, seed: int = 0) -> SampleResult:
    """Write the built-in sample dataset of a task.

    Python: ``engine.sample(engine.DEFAULT_TASK, "data/sample-classification")``
    CLI:    ``python -m engine sample classification --out data/sample-classification``
    """
    return datasets.make_sample(task, out, seed)


def import_dataset(
    path: str,
    *,
    format: str | None = None,
    task: str | None = None,
    name: str | None = None,
    seed: int = 0,
    workspace: Workspace = None,
) -> DatasetInfo:
    """Detect the format (Datumaro), check every image, split, and store the dataset in the workspace.

    ``path`` is a dataset folder or a zip of one (extracted safely into the workspace first).

    Python: ``engine.import_dataset("data/sample-classification")["dataset"]``
    CLI:    ``python -m engine data import data/sample-classification [--format imagenet] [--task T]``
    """
    return datasets.import_dataset(Context.open(workspace), path, fmt=format, task=task, name=name, seed=seed)


def dataset_info(dataset: int, *, workspace: Workspace = None) -> DatasetInfo:
    """Counts per split and class, image sizes, the task's statistics and the problems found at import.

    Python: ``engine.dataset_info(1)``      CLI: ``python -m engine data info 1``
    """
    return datasets.dataset_info(Context.open(workspace), dataset)


def list_datasets(*, workspace: Workspace = None) -> list[DatasetRow]:
    """Python: ``engine.list_datasets()``      CLI: ``python -m engine data list``"""
    return [
        {
            "dataset": d["id"],
            "name": d["name"],
            "task": d["task"],
            "format": d["format"],
            "images": d["info"].get("num_images", 0),
        }
        for d in Context.open(workspace).db.list_datasets()
    ]


def list_formats() -> list[str]:
    """The Datumaro formats some task reads.

    Python: ``engine.list_formats()``      CLI: ``python -m engine data formats``
    """
    return all_formats()


def dataset_samples(
    dataset: int, split: str = "train", *, count: int = 0, captions: bool = True, workspace: Workspace = None
) -> list[SampleRow]:
    """One split's images with their targets (``count`` evenly spaced ones, or all) and captions.

    Python: ``engine.dataset_samples(1, "test", count=5)``      CLI: ``python -m engine data samples 1 test --count 5``
    """
    return datasets.dataset_samples(Context.open(workspace), dataset, split, count=count, captions=captions)


# --- training and optimization ----------------------------------------------------------------------------
def train(
    dataset: int | None = None,
    *,
    resume: int | None = None,
    task: str | None = None,
    model: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    img_size: int | None = None,
    lr: float | None = None,
    weight_decay: float | None = None,
    warmup: float | None = None,
    patience: int | None = None,
    augment: str | None = None,
    balance: str | None = None,
    seed: int | None = None,
    pretrained: bool | None = None,
    max_steps: int | None = None,
    nproc: int | None = None,
    device: str | None = None,
    on_run: Callable[[int], None] | None = None,
    workspace: Workspace = None,
) -> TrainResult:
    """Train a model on an imported dataset, or resume a cancelled/killed run from its ``last.pt``.

    Settings left ``None`` take the task's defaults (``engine.training_defaults(task)``); ``on_run`` hears
    the run id as soon as it exists.

    Python: ``engine.train(1, model="mobilenet_v3_small", epochs=10)["run"]``
    CLI:    ``python -m engine train --dataset 1 --model mobilenet_v3_small --epochs 10``
    Resume: ``engine.train(resume=3)`` / ``python -m engine train --resume 3``

    ``nproc=N`` trains in N data-parallel processes (torchrun, gloo on CPU, NCCL on CUDA; the batch is split
    between them); ``device`` is ``cpu``, ``cuda`` or ``auto`` (the default: CUDA when torch sees a GPU).
    """
    settings = {
        "task": task,
        "model": model,
        "epochs": epochs,
        "batch_size": batch_size,
        "img_size": img_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "warmup": warmup,
        "patience": patience,
        "augment": augment,
        "balance": balance,
        "seed": seed,
        "pretrained": pretrained,
        "max_steps": max_steps,
        "nproc": nproc,
        "device": device,
    }
    ctx = Context.open(workspace)
    return tracking.after("train", ctx, training.train(ctx, dataset, resume=resume, on_run=on_run, **settings))


def evaluate(
    run: int, *, variant: str = "torch-fp32", split: str = "test", device: str = "CPU", workspace: Workspace = None
) -> EvaluateResult:
    """Score one variant on a split with the task's metrics.

    Python: ``engine.evaluate(3, variant="int8")``      CLI: ``python -m engine evaluate 3 --variant int8``
    """
    return optimizing.evaluate(Context.open(workspace), run, variant=variant, split=split, device=device)


@with_settings
def optimize(
    run: int,
    *,
    variants: Sequence[str] | None = None,
    calib_size: int = CALIB_SIZE,
    calib_split: str = "train",
    ignored_scope: str | Sequence[str] | None = None,
    workspace: Workspace = None,
    **settings: Any,
) -> OptimizeResult:
    """Export OpenVINO IR variants (FP32, FP16, INT8 via NNCF PTQ, pruned...) and score each on the test split.

    ``settings`` are the variants' own options, one keyword each, declared by the variant's module in
    ``engine/export/variants/`` (``engine.variant_options()`` lists them): ``prune_*`` shape ``pruned`` /
    ``pruned-int8`` (share of channels removed, importance criterion, steps, fine-tuning epochs per step and
    after the last, fine-tuning peak learning rate: default the run's own), ``qat_*`` shape ``int8-qat`` (its
    fine-tuning epochs and peak learning rate: default a tenth of the run's). Every one is checked before any
    work. A cancelled QAT resumes from its last epoch when optimize runs again with the same settings.

    INT8 variants calibrate on ``calib_size`` images of ``calib_split`` (train or val; the result records the
    subset's class coverage and warns when its images are also in val or test). ``ignored_scope`` (layer names,
    comma-separated, or a file of them, e.g. a saved ``sensitivity.json``) builds ``int8-custom`` with those
    layers in float; asked for without a scope, ``int8-custom`` uses the one ``sensitivity`` suggested.

    Python: ``engine.optimize(3, variants=["fp32", "int8", "pruned-int8"], prune_ratio=0.3)``
    CLI:    ``python -m engine optimize 3 --variants fp32,int8,pruned-int8 --prune-ratio 0.3``
    """
    chosen = settings_from(settings, verb="optimize")  # an unknown keyword is a TypeError, as Python's own
    ctx = Context.open(workspace)
    result = optimizing.optimize(
        ctx,
        run,
        variants=variants,
        calib_size=calib_size,
        calib_split=calib_split,
        ignored_scope=ignored_scope,
        settings=chosen,
    )
    return tracking.after("optimize", ctx, result)


def predict(
    run: int,
    images: Sequence[str],
    *,
    variant: str = "int8",
    device: str = "CPU",
    save: str | None = None,
    workspace: Workspace = None,
) -> PredictResult:
    """Predict image files with one variant; ``save`` writes annotated copies to that folder.

    Python: ``engine.predict(3, ["cat.png"], variant="int8", save="out/")``
    CLI:    ``python -m engine predict 3 cat.png --variant int8 --save out/``
    """
    return predicting.predict(Context.open(workspace), run, images, variant=variant, device=device, save=save)


def compare(
    run: int, a: str = "torch-fp32", b: str = "int8", *, split: str = "test", workspace: Workspace = None
) -> CompareResult:
    """Both variants' predictions on a split, most-disagreeing images first.

    Python: ``engine.compare(3, "torch-fp32", "int8")``      CLI: ``python -m engine compare 3 torch-fp32 int8``
    """
    return comparing.compare(Context.open(workspace), run, a, b, split=split)


def deploy(
    run: int,
    *,
    variant: str = "int8",
    out: str | None = None,
    ovms: str | None = None,
    name: str | None = None,
    format: str = "openvino",
    workspace: Workspace = None,
) -> DeployResult:
    """A zip with the IR, labels, Model API metadata and how to run it (default: ``<run>/deploy/<name>.zip``);
    with ``ovms``, the IR as a new version in an OpenVINO Model Server repository instead
    (``<ovms>/<name>/<version>/model.xml|bin`` + ``config.json``; ``name`` defaults to ``<architecture>-<variant>``).

    Python: ``engine.deploy(3, variant="int8", out="model.zip")["path"]``
    CLI:    ``python -m engine deploy 3 --variant int8 --out model.zip``
            ``python -m engine deploy 3 --variant int8 --ovms models/ [--name shapes]``
            ``python -m engine deploy 3 --variant fp32 --format onnx`` (the FP32 network as ONNX)
    """
    return deploying.deploy(Context.open(workspace), run, variant, out, ovms, name, format)


# --- runs, devices, jobs -----------------------------------------------------------------------------------
def list_runs(*, workspace: Workspace = None) -> list[RunRow]:
    """Python: ``engine.list_runs()``      CLI: ``python -m engine runs list``"""
    return runs.list_runs(Context.open(workspace))


def show_run(run: int, *, workspace: Workspace = None) -> RunDetail:
    """Python: ``engine.show_run(3)``      CLI: ``python -m engine runs show 3``"""
    return runs.show_run(Context.open(workspace), run)


def variant_table(run: int, *, workspace: Workspace = None) -> VariantTable:
    """The run's variants: test metric, drop vs PyTorch, agreement with FP32, size and size ratio.

    Python: ``engine.variant_table(3)["rows"]``      CLI: ``python -m engine runs variants 3``
    """
    return runs.variant_table(Context.open(workspace), run)


def demo(
    task: str = DEFAULT_TASK, *, on_run: Callable[[int], None] | None = None, workspace: Workspace = None
) -> DemoResult:
    """The dashboard's "Load sample project": sample -> import -> train -> optimize -> benchmark, in the workspace.

    Python: ``engine.demo(task)``      CLI: ``python -m engine demo --task TASK``
    (``STUDIO_DEMO_TINY=1`` for a 1-minute version)
    """
    return demo_project.demo(Context.open(workspace), task, on_run=on_run)


def submit_job(verb: str, kwargs: dict, *, title: str = "", workspace: Workspace = None) -> JobRow:
    """Run a verb in the background (``python -m engine jobs run ID``); at most $STUDIO_MAX_JOBS at once.

    Python: ``engine.submit_job("train", {"dataset": 1}, title="train mobilenet")``
    CLI:    ``python -m engine jobs submit train '{"dataset": 1}' --title "train mobilenet"``
    """
    if verb not in JOB_VERBS:
        raise choice_error("job verb", verb, JOB_VERBS)
    signature = inspect.signature(VERBS[verb])
    try:  # refused now, with the valid names, rather than failing later in the job's process
        signature.bind(**{k: v for k, v in kwargs.items() if k not in ("on_run", "workspace")})
    except TypeError as exc:
        names = ", ".join(n for n in signature.parameters if n not in ("on_run", "workspace"))
        msg = f"{verb} cannot take these arguments ({exc}); it takes: {names}"
        raise StudioError(msg) from None
    return job_queue.submit(Context.open(workspace), verb, kwargs, title or verb)


VERBS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        sample,
        import_dataset,
        dataset_info,
        list_datasets,
        list_formats,
        dataset_samples,
        train,
        evaluate,
        optimize,
        benchmark,
        search,
        list_searches,
        show_search,
        profile,
        sensitivity,
        calibration_sweep,
        predict,
        compare,
        saliency,
        deploy,
        report,
        list_runs,
        show_run,
        variant_table,
        benchmark_table,
        devices,
        measure_int8,
        demo,
        submit_job,
        list_jobs,
        cancel_job,
        job_logs,
        repair_workspace,
        list_weights,
        import_weights,
        fetch_weights,
    )
}
JOB_VERBS = tuple(
    n for n in VERBS if "job" not in n and n not in ("repair_workspace", "fetch_weights")
)  # what a background job may run
