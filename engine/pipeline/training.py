"""The train verb: create (or resume) a run, fit it, record the outcome in the database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import torch
import yaml

from engine.errors import Cancelled, StudioError
from engine.pipeline.context import Context, run_log
from engine.status import RUN_FINISHED, RunStatus
from engine.store import lock
from engine.store.atomic import write_text
from engine.training import checkpoint
from engine.training.config import TrainConfig

log = logging.getLogger(__name__)


def train(
    ctx: Context,
    dataset_id: int | str | None = None,
    *,
    resume: int | str | None = None,
    on_run: Callable[[int], None] | None = None,
    **settings,
) -> dict:
    """Train a new run (or resume one); ``on_run`` hears the run id as soon as it exists."""
    if resume is not None:
        given = sorted(k.replace("_", "-") for k, v in settings.items() if v is not None)
        if given:
            msg = (
                f"--resume continues run {resume} with the settings it started with; --{', --'.join(given)}"
                f" cannot change them: drop {'it' if len(given) == 1 else 'them'}, or start a new run with"
                " `python -m engine train --dataset ID ...`"
            )
            raise StudioError(msg)
        run = ctx.run(resume)
        if run["status"] in RUN_FINISHED:
            msg = f"run {run['id']} already finished ({run['status']}); start a new run instead of resuming it"
            raise StudioError(msg)
        last = ctx.run_dir(run) / "checkpoints" / "last.pt"
        if not last.is_file():  # never silently start over
            msg = (
                f"run {run['id']} has no checkpoints/last.pt to resume from (it stopped before its first epoch"
                f" ended, or the file was removed); start a new run: `python -m engine train --dataset"
                f" {run['dataset_id']}`"
            )
            raise StudioError(msg)
        checkpoint.load(last)  # readable before anything is started or written
        config = TrainConfig.from_dict(run["config"])
        dataset = ctx.db.get_dataset(run["dataset_id"])
    else:
        if dataset_id is None:
            msg = "train needs --dataset ID (see `python -m engine data list`) or --resume RUN"
            raise StudioError(msg)
        dataset = ctx.db.get_dataset(dataset_id)
        task = settings.pop("task", None) or dataset["task"]
        if task != dataset["task"]:
            msg = f"dataset {dataset['id']} is a {dataset['task']} dataset; it cannot train a {task} model"
            raise StudioError(msg)
        config = TrainConfig(task=task, **{k: v for k, v in settings.items() if v is not None}).resolved(
            dataset["info"]
        )
        run = {"id": ctx.db.add_run(dataset_id=dataset["id"], task=task, model=config.model, config=config.to_dict())}
    run_dir = ctx.run_dir(run)
    with lock.hold(run_dir, f"run {run['id']}"):  # a second writer (a resume of a running run) is refused
        if on_run is not None:
            on_run(run["id"])
        result = _fit(ctx, run, run_dir, config, dataset, resume is not None)
        metrics = run_metrics(
            result.best_epoch, result.epochs_done, result.pretrained, result.weights_notice, result.best_metrics
        )
        if result.weights_sha256:  # which pretrained file the run started from, to the byte
            metrics |= {"weights_file": result.weights_file, "weights_sha256": result.weights_sha256}
        ctx.db.update_run(run["id"], status=result.status, metrics=metrics)
    out = {"run": run["id"], "status": result.status, "task": config.task, "model": config.model, **metrics}
    return {**out, "signal": result.signal} if result.signal else out


def run_metrics(best_epoch: int, epochs_done: int, pretrained, weights_notice, best_metrics: dict) -> dict:
    """A run's metrics as the database stores them (``train`` writes them, ``workspace repair`` rebuilds them)."""
    return {
        "best_epoch": best_epoch,
        "epochs_done": epochs_done,
        "pretrained": pretrained,
        "weights_notice": weights_notice,
        **{k if k.startswith("val_") else f"val_{k}": v for k, v in best_metrics.items()},
    }


def _fit(ctx: Context, run: dict, run_dir, config: TrainConfig, dataset: dict, resume: bool):
    # from here on a cancel (SIGTERM: the job runner raises Cancelled until the training loop takes the signal
    # over) marks the run cancelled, also while torch is still being imported: a run left "running" by a cancel
    # would later read as interrupted
    try:
        write_text(
            run_dir / "config.yaml",
            yaml.safe_dump({"dataset": dataset["id"], **config.to_dict()}, sort_keys=False),
        )
        ctx.db.update_run(run["id"], status=RunStatus.RUNNING)
        from engine.training import distributed
        from engine.training.trainer import FitResult, fit

        where = f"{config.nproc} processes" if config.nproc > 1 else "1 process"
        with run_log(run_dir):
            log.info(
                "run %s: %s on dataset %s (%s), %s on %s",
                run["id"], config.model, dataset["id"], dataset["name"], where, config.device,
            )  # fmt: skip
        if config.nproc > 1:  # torchrun's workers write log.txt, events and checkpoints (rank 0)
            return FitResult(**distributed.launch(ctx.ws.root, run["id"], run_dir, config.nproc, resume=resume))
        with run_log(run_dir):
            return fit(
                run_dir,
                config,
                ctx.task(dataset),
                dataset["info"]["labels"],
                ctx.samples(dataset, "train"),
                ctx.samples(dataset, "val"),
                resume=resume,
                group=distributed.Group(device=torch.device(distributed.resolve_device(config.device))),
            )
    except Cancelled:  # cancelled before the training loop took over SIGTERM: nothing to save yet
        ctx.db.update_run(run["id"], status=RunStatus.CANCELLED)
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the database may be what failed: the lock still tells
            ctx.db.update_run(run["id"], status=RunStatus.FAILED, metrics={"error": str(exc) or type(exc).__name__})
        raise
