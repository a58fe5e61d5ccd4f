"""The engine's public face. Each verb is one page action and one CLI subcommand.

Every function takes ``workspace=`` (default: ``$STUDIO_WORKSPACE`` or ``./workspace``) and returns a
plain dict, which the CLI prints with ``--json`` and the dashboard renders.
"""

from __future__ import annotations

from pathlib import Path

from engine import jobs as job_queue
from engine.data import stored
from engine.pipeline import benchmarking, comparing, datasets, deploying, optimizing, predicting, runs, training
from engine.pipeline import demo as demo_project
from engine.pipeline.context import Context


def sample(task: str, out: str | Path, *, seed: int = 0) -> dict:
    """Write the built-in sample dataset.

    Python: ``engine.sample("classification", "data/sample-classification")``
    CLI:    ``python -m engine sample classification --out data/sample-classification``
    """
    return datasets.make_sample(task, out, seed)


def import_dataset(
    path: str | Path,
    *,
    format: str | None = None,
    task: str | None = None,
    name: str | None = None,
    seed: int = 0,
    workspace: str | Path | None = None,
) -> dict:
    """Detect the format (Datumaro), check every image, split, and store the dataset in the workspace.

    Python: ``engine.import_dataset("data/sample-classification")["dataset"]``
    CLI:    ``python -m engine data import data/sample-classification [--format imagenet] [--task T]``
    """
    return datasets.import_dataset(Context.open(workspace), path, fmt=format, task=task, name=name, seed=seed)


def dataset_info(dataset: int | str, *, workspace: str | Path | None = None) -> dict:
    """Counts per split and class, image sizes and problems found at import.

    Python: ``engine.dataset_info(1)``      CLI: ``python -m engine data info 1``
    """
    return datasets.dataset_info(Context.open(workspace), dataset)


def list_datasets(*, workspace: str | Path | None = None) -> list[dict]:
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


def train(
    dataset: int | str | None = None,
    *,
    resume: int | str | None = None,
    on_run=None,
    workspace: str | Path | None = None,
    **settings,
) -> dict:
    """Train a model (settings: task, model, epochs, batch_size, img_size, lr, seed, patience, max_steps...).

    Python: ``engine.train(1, model="mobilenet_v3_small", epochs=10)["run"]``
    CLI:    ``python -m engine train --dataset 1 --model mobilenet_v3_small --epochs 10``
    Resume: ``engine.train(resume=3)`` / ``python -m engine train --resume 3``
    """
    return training.train(Context.open(workspace), dataset, resume=resume, on_run=on_run, **settings)


def evaluate(
    run: int | str,
    *,
    variant: str = "torch-fp32",
    split: str = "test",
    device: str = "CPU",
    workspace: str | Path | None = None,
) -> dict:
    """Score one variant on a split with the task's metrics.

    Python: ``engine.evaluate(3, variant="int8")``      CLI: ``python -m engine evaluate 3 --variant int8``
    """
    return optimizing.evaluate(Context.open(workspace), run, variant=variant, split=split, device=device)


def optimize(
    run: int | str,
    *,
    variants: str | list[str] | None = None,
    calib_size: int = 300,
    workspace: str | Path | None = None,
) -> dict:
    """Export OpenVINO IR variants (FP32, FP16, INT8 via NNCF PTQ) and score each on the test split.

    Python: ``engine.optimize(3, variants="fp32,fp16,int8", calib_size=300)``
    CLI:    ``python -m engine optimize 3 --variants fp32,fp16,int8 --calib-size 300``
    """
    return optimizing.optimize(Context.open(workspace), run, variants=variants, calib_size=calib_size)


def benchmark(
    run: int | str,
    *,
    variants: str | list[str] | None = None,
    devices: str | list[str] = "CPU",
    hint: str = "both",
    precisions: str | list[str] = "default",
    iterations: int = 200,
    seconds: float = 0.0,
    warmup: int = 10,
    workspace: str | Path | None = None,
) -> dict:
    """Latency (sync) and throughput (async) per variant x device x inference precision.

    Python: ``engine.benchmark(3, devices="CPU,AUTO", precisions="default,f32", iterations=200)``
    CLI:    ``python -m engine benchmark 3 --device CPU,AUTO --precision default,f32 --iterations 200``
    """
    return benchmarking.benchmark(
        Context.open(workspace),
        run,
        variants=variants,
        devices=devices,
        hint=hint,
        precisions=precisions,
        iterations=iterations,
        seconds=seconds,
        warmup=warmup,
    )


def predict(
    run: int | str,
    images: list[str | Path],
    *,
    variant: str = "int8",
    device: str = "CPU",
    save: str | Path | None = None,
    workspace: str | Path | None = None,
) -> dict:
    """Predict image files with one variant; ``save`` writes annotated copies.

    Python: ``engine.predict(3, ["cat.png"], variant="int8", save="out/")``
    CLI:    ``python -m engine predict 3 --variant int8 cat.png --save out/``
    """
    return predicting.predict(Context.open(workspace), run, images, variant=variant, device=device, save=save)


def list_runs(*, workspace: str | Path | None = None) -> list[dict]:
    """Python: ``engine.list_runs()``      CLI: ``python -m engine runs list``"""
    return runs.list_runs(Context.open(workspace))


def show_run(run: int | str, *, workspace: str | Path | None = None) -> dict:
    """Python: ``engine.show_run(3)``      CLI: ``python -m engine runs show 3``"""
    return runs.show_run(Context.open(workspace), run)


def devices() -> list[dict]:
    """OpenVINO devices and their key properties, plus AUTO.

    Python: ``engine.devices()``      CLI: ``python -m engine devices``
    """
    return runs.devices()


def demo(task: str = "classification", *, on_run=None, workspace: str | Path | None = None) -> dict:
    """The dashboard's "Load sample project": sample -> import -> train -> optimize -> benchmark, in the workspace.

    Python: ``engine.demo()``      CLI: ``python -m engine demo`` (``STUDIO_DEMO_TINY=1`` for a 1-minute version)
    """
    return demo_project.demo(Context.open(workspace), task, on_run=on_run)


def submit_job(verb: str, kwargs: dict, title: str, *, workspace: str | Path | None = None) -> dict:
    """Run a verb in the background (``python -m engine jobs run ID``); at most $STUDIO_MAX_JOBS at once.

    Python: ``engine.submit_job("train", {"dataset": 1}, "train mobilenet")``
    CLI:    ``python -m engine jobs submit train '{"dataset": 1}'``
    """
    return job_queue.submit(Context.open(workspace), verb, kwargs, title)


def list_jobs(*, active_only: bool = False, workspace: str | Path | None = None) -> list[dict]:
    """Python: ``engine.list_jobs()``      CLI: ``python -m engine jobs list``"""
    ctx = Context.open(workspace)
    job_queue.tick(ctx)
    return job_queue.list_jobs(ctx, active_only)


def cancel_job(job: int | str, *, workspace: str | Path | None = None) -> dict:
    """Python: ``engine.cancel_job(4)``      CLI: ``python -m engine jobs cancel 4``"""
    return job_queue.cancel(Context.open(workspace), job)


def compare(
    run: int | str, a: str = "torch-fp32", b: str = "int8", *, split: str = "test", workspace: str | Path | None = None
) -> dict:
    """Both variants' predictions on a split, most-disagreeing images first.

    Python: ``engine.compare(3, "torch-fp32", "int8")``      CLI: ``python -m engine compare 3 torch-fp32 int8``
    """
    return comparing.compare(Context.open(workspace), run, a, b, split=split)


def deploy_package(run: int | str, variant: str, *, workspace: str | Path | None = None) -> tuple[str, bytes]:
    """(file name, zip bytes) of an IR with labels, Model API metadata and run instructions.

    Python: ``name, data = engine.deploy_package(3, "int8")``
    CLI:    ``python -m engine deploy 3 --variant int8 --out model.zip``
    """
    return deploying.package(Context.open(workspace), run, variant)


def dataset_samples(dataset: int | str, split: str = "train", *, workspace: str | Path | None = None) -> list:
    """``(image path, target)`` pairs of one split of an imported dataset.

    Python: ``engine.dataset_samples(1, "test")[:5]``
    """
    ctx = Context.open(workspace)
    row = ctx.db.get_dataset(dataset)
    return stored.split_samples(ctx.dataset_dir(row["id"]), split, row["task"])


def benchmark_results(run: int | str, *, workspace: str | Path | None = None) -> list[dict]:
    """Every benchmark result of a run, newest last, with the raw latency samples.

    Python: ``engine.benchmark_results(3)``      CLI: ``python -m engine runs show 3 --json``
    """
    ctx = Context.open(workspace)
    return [b["result"] for b in ctx.db.list_benchmarks(ctx.run(run)["id"])]
