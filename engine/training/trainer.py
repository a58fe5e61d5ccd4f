"""Training a run: ``fit`` builds the model, its loaders and optimizer and runs the one loop
(:mod:`engine.training.loop`) over them with its callbacks: one event per epoch in ``events.jsonl``,
``last.pt`` and ``best.pt`` checkpoints; the loop gives early stopping, resume, the stop on a non-finite loss
and a clean stop on SIGTERM/SIGINT; ``evaluate`` scores the model.

Resume is exact: ``last.pt`` is only ever written at an epoch boundary (epoch 0 included, before the first
step) and holds the random-number states there (the shuffle's generator, torch's and numpy's), so a run that
is cancelled or killed mid-epoch redoes that epoch from the same state and ends with the same weights as one
that never stopped. A stop keeps the previous boundary's ``last.pt``: the partial epoch is all that is lost.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from engine.status import RunStatus
from engine.store.atomic import append_jsonl
from engine.tasks import Task
from engine.training import checkpoint, threads
from engine.training.config import TrainConfig, auto_balance
from engine.training.distributed import SINGLE, Group, to_device
from engine.training.loop import Diverged, Loop, Step, make_loader, seed_everything

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    status: RunStatus  # COMPLETED, EARLY_STOPPED or CANCELLED
    epochs_done: int
    best_epoch: int
    best_metrics: dict
    pretrained: bool
    weights_notice: str
    signal: int = 0  # the signal that cancelled it
    weights_file: str = ""  # the pretrained checkpoint used, and its SHA-256
    weights_sha256: str = ""


@torch.inference_mode()
def evaluate(model, loader, task: Task, metrics, device: torch.device = SINGLE.device) -> dict:
    """The task's metrics on the network's own input resolution, through the same post-processing as the IRs."""
    model.eval()
    total_loss, seen, has_loss = 0.0, 0, False
    for inputs, targets in loader:
        hw = tuple(inputs.shape[-2:])
        outputs, loss = task.evaluate_batch(model, to_device(inputs, device), to_device(targets, device))
        metrics.update_predictions([task.postprocess(o, hw, hw) for o in outputs], list(targets))
        if loss is not None:
            total_loss, has_loss = total_loss + loss.item() * len(targets), True
        seen += len(targets)
    val_loss = {"val_loss": total_loss / max(seen, 1)} if has_loss else {}
    return {**val_loss, **metrics.compute()}


@dataclass
class Checkpoints:
    """Callback: ``best.pt`` when the epoch improved, then ``last.pt`` (so a last.pt that names an epoch best
    always has its best.pt). ``payload`` is called on every rank (last.pt holds each one's random states)."""

    folder: Path
    payload: Callable[[], dict]
    main: bool = True

    def save(self, name: str) -> None:
        state = self.payload()
        if self.main:
            checkpoint.save(self.folder / name, state)

    def on_epoch_end(self, loop: Loop, event: dict) -> None:
        if event["best"]:
            self.save("best.pt")
        self.save("last.pt")


@dataclass
class EventLog:
    """Callback: one line per epoch in ``events.jsonl`` (rank 0 alone) and, with ``line``, in the log."""

    path: Path
    main: bool = True
    line: str = "epoch"

    def record(self, event: dict) -> None:
        if self.main:
            append_jsonl(self.path, event)

    def on_epoch_end(self, loop: Loop, event: dict) -> None:
        self.record(event)
        score = f" val_{loop.primary} {event[loop.primary]:.4f}" if loop.primary in event else ""
        log.info(
            "%s %d/%d loss %.4f%s (%.0f img/s, eta %.0fs)",
            self.line, event["epoch"], event["epochs"], event["train_loss"], score,
            event["images_per_s"], event["eta_s"],
        )  # fmt: skip


def _loss(task: Task, net, balance: str, counts: Counter, classes: int, device) -> Callable:
    """The step's loss; ``balance="loss"`` weighs each class by the inverse of its share of the train split
    (``n / (classes * n_c)``, sklearn's "balanced"; a class with no train image weighs 1)."""
    if balance != "loss":
        return lambda inputs, targets: task.train_loss(net, inputs, targets)
    total = sum(counts.values())
    weight = torch.tensor([total / (classes * counts[c]) if counts[c] else 1.0 for c in range(classes)], device=device)
    return lambda inputs, targets: task.train_loss(net, inputs, targets, weight=weight)


def fit(
    run_dir: Path,
    config: TrainConfig,
    task: Task,
    labels: list[str],
    train_samples: list,
    val_samples: list,
    *,
    resume: bool = False,
    group: Group = SINGLE,
) -> FitResult:
    """Fit ``config.model``; in a distributed ``group`` (engine.training.distributed) every rank calls this and
    rank 0 alone evaluates and writes the run's files."""
    threads.BUDGET.start(share=group.local_world)
    generator = seed_everything(config.seed)
    events = EventLog(run_dir / "events.jsonl", main=group.main)

    balance = config.balance or "none"
    counts = Counter(int(t) for _, t in train_samples) if balance in ("auto", "loss") else Counter()
    if balance == "auto":  # a config resolved without the dataset's info: decide from the samples themselves
        balance, _ = auto_balance({labels[c]: n for c, n in counts.items()}, config.nproc)
    train_loader = make_loader(
        task, train_samples, config.img_size, config.batch_size, generator=generator, group=group, seed=config.seed,
        augment=config.augment or "basic", balance=balance,
    )  # fmt: skip
    val_loader = make_loader(task, val_samples, config.img_size, max(config.batch_size, 32), train=False)

    model, weights = task.build_model(config.model, len(labels), config.pretrained)
    model, net = _placed(model, task, group, config.seed)
    groups = parameter_groups(model, task, config.lr, pretrained=weights.pretrained)
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(len(train_loader), 1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=[g["lr"] for g in groups],
        total_steps=config.epochs * steps_per_epoch,
        pct_start=config.warmup,
    )

    def score() -> dict:
        val = evaluate(model, val_loader, task, task.make_metrics(labels), group.device) if group.main else None
        return group.from_main(val)

    loop = Loop(
        Step(net, _loss(task, net, balance, counts, len(labels), group.device), optimizer, scheduler),
        train_loader,
        config.epochs,
        generator,
        score=score,
        primary=task.primary_metric,
        patience=config.patience,
        max_steps=config.max_steps,
        group=group,
    )

    def payload() -> dict:
        about = {"task": task.name, "arch": config.model, "labels": labels, "img_size": config.img_size}
        return {**about, "config": config.to_dict(), "model": model.state_dict(), **loop.state_dict()}

    saver = Checkpoints(run_dir / "checkpoints", payload, main=group.main)
    loop.callbacks = (saver, events)
    if resume and (run_dir / "checkpoints" / "last.pt").is_file():
        state = checkpoint.load(run_dir / "checkpoints" / "last.pt")
        model.load_state_dict(state["model"])
        loop.load_state_dict(state, config.seed)
        events.record({"type": "resume", "epoch": loop.epoch, "time": time.time()})
    else:
        saver.save("last.pt")  # a stop in the first epoch resumes from here
        events.record(
            {
                "type": "start",
                "time": time.time(),
                "pretrained": weights.pretrained,
                "weights_notice": weights.notice,
                "weights_file": weights.file,
                "weights_sha256": weights.sha256,
                "epochs": config.epochs,
                "steps_per_epoch": steps_per_epoch,
                "processes": group.world,
                "device": group.device.type,
            },
        )
    log.info("%s", weights.notice)
    try:
        status = loop.run()
    except Diverged:
        events.record({"type": "end", "status": RunStatus.FAILED, "time": time.time(), "best_epoch": loop.best_epoch})
        raise
    events.record({"type": "end", "status": status, "time": time.time(), "best_epoch": loop.best_epoch})
    return FitResult(
        status,
        loop.epoch,
        loop.best_epoch,
        loop.best_metrics,
        weights.pretrained,
        weights.notice,
        loop.signal,
        weights.file,
        weights.sha256,
    )


PRETRAINED_LR_SCALE = 0.1  # fine-tuning: the pretrained part learns at a tenth of the new layers' rate


def parameter_groups(model, task: Task, lr: float, *, pretrained: bool) -> list[dict]:
    """One group at ``lr`` from random init; fine-tuning pretrained weights, the task's new layers (head) at
    ``lr`` and the pretrained rest at a tenth of it, so the first steps do not wash out what was learned."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not pretrained:
        return [{"params": params, "lr": lr}]
    new = {id(p) for module in task.new_layers(model) for p in module.parameters()}
    head = [p for p in params if id(p) in new]
    body = [p for p in params if id(p) not in new]
    return [g for g in ({"params": head, "lr": lr}, {"params": body, "lr": lr * PRETRAINED_LR_SCALE}) if g["params"]]


def _placed(model, task: Task, group: Group, seed: int):
    """``(model, net)``: the model on the group's device, and what trains it (DDP in a distributed group)."""
    model.to(group.device)
    if not group.active:
        return model, model
    if group.device.type == "cuda":  # batch statistics over the global batch (SyncBatchNorm is GPU-only)
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    # rank 0's initial weights reach every rank; gradients are averaged after each backward
    net = DistributedDataParallel(model, find_unused_parameters=task.ddp_unused_parameters)
    if group.rank:  # augmentations differ between ranks (rank 0 keeps the 1-process stream)
        torch.manual_seed(seed + 1000 * group.rank)
        np.random.seed(seed + 1000 * group.rank)
    return model, net
