"""The training loop, torchvision-references style: ``train_one_epoch`` and ``evaluate`` read top to bottom.

``fit`` adds what a product needs around them: one event per epoch in ``events.jsonl``, ``last.pt`` and
``best.pt`` checkpoints, early stopping, resume, and a clean stop on SIGTERM/SIGINT.

Resume is exact: ``last.pt`` is only ever written at an epoch boundary (epoch 0 included, before the first
step) and holds the random-number states there (the shuffle's generator, torch's and numpy's), so a run that
is cancelled or killed mid-epoch redoes that epoch from the same state and ends with the same weights as one
that never stopped. A stop keeps the previous boundary's ``last.pt``: the partial epoch is all that is lost.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from engine.store.atomic import append_jsonl
from engine.tasks import Task
from engine.training import checkpoint, threads
from engine.training.config import TrainConfig
from engine.training.distributed import SINGLE, Group, to_device

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    status: str  # "completed" | "early_stopped" | "cancelled"
    epochs_done: int
    best_epoch: int
    best_metrics: dict
    pretrained: bool
    weights_notice: str
    signal: int = 0  # the signal that cancelled it


class StopFlag:
    """Set by SIGTERM/SIGINT; the loop checks it after every step."""

    def __init__(self) -> None:
        self.requested = False
        self.signum = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        log.warning("received signal %s: stopping after the current step; resume restarts this epoch", signum)
        self.requested, self.signum = True, signum


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed)
    return torch.Generator().manual_seed(seed)


def train_one_epoch(
    model,
    loader,
    loss_fn,
    optimizer,
    scheduler,
    *,
    should_stop: Callable[[], bool],
    max_steps=0,
    group: Group = SINGLE,
):
    """One pass over ``loader``; with a distributed ``group`` the loss and throughput are those of all ranks."""
    model.train()
    total_loss, seen, steps = 0.0, 0, 0
    start = time.perf_counter()
    for batch_inputs, batch_targets in loader:
        inputs, targets = to_device(batch_inputs, group.device), to_device(batch_targets, group.device)
        loss = loss_fn(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(targets)
        seen += len(targets)
        steps += 1
        threads.BUDGET.adjust()  # a neighbour took a core (or gave it back): follow it
        if should_stop() or (max_steps and steps >= max_steps):
            break
    elapsed = time.perf_counter() - start
    return {
        "train_loss": group.mean(total_loss / max(seen, 1)),
        "images_per_s": group.world * seen / max(elapsed, 1e-9),
        "steps": steps,
        "threads": torch.get_num_threads(),
    }


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
    ckpt_dir = run_dir / "checkpoints"
    events = run_dir / "events.jsonl"

    def record(event: dict) -> None:
        if group.main:
            append_jsonl(events, event)

    def save(name: str, epoch: int) -> None:
        state = payload(epoch)  # every rank takes part: last.pt holds each one's random-number states
        if group.main:
            checkpoint.save(ckpt_dir / name, state)

    train_ds = task.make_dataset(train_samples, config.img_size, train=True)
    val_ds = task.make_dataset(val_samples, config.img_size, train=False)
    drop_last = len(train_ds) > config.batch_size
    sampler = None
    if group.active:  # each rank its 1/N of the same seeded shuffle; the global batch stays config.batch_size
        sampler = DistributedSampler(train_ds, group.world, group.rank, seed=config.seed, drop_last=drop_last)
    train_loader = DataLoader(
        train_ds,
        batch_size=config.batch_size // group.world,
        shuffle=sampler is None,
        sampler=sampler,
        generator=generator if sampler is None else None,
        drop_last=drop_last,
        collate_fn=task.collate_fn,
    )
    val_loader = DataLoader(val_ds, batch_size=max(config.batch_size, 32), collate_fn=task.collate_fn)

    model, weights = task.build_model(config.model, len(labels), config.pretrained)
    model, net = _placed(model, task, group, config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(len(train_loader), 1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=config.warmup
    )
    start_epoch, best_value, best_epoch, best_metrics, bad_epochs = 0, -math.inf, 0, {}, 0

    def payload(epoch: int) -> dict:
        return {
            "task": task.name,
            "arch": config.model,
            "labels": labels,
            "img_size": config.img_size,
            "config": config.to_dict(),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "best_value": best_value,
            "best_epoch": best_epoch,
            "bad_epochs": bad_epochs,
            "best_metrics": best_metrics,
            "rng": _rng_state(generator),
            **({"rng_ranks": group.gather(_rng_state(generator))} if group.active else {}),
        }

    def stopping() -> bool:
        return group.any(stop.requested)

    if resume and (ckpt_dir / "last.pt").is_file():
        state = checkpoint.load(ckpt_dir / "last.pt")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best_value = state["epoch"], state["best_value"]
        best_epoch, bad_epochs, best_metrics = state["best_epoch"], state["bad_epochs"], state["best_metrics"]
        _resume_rng(generator, state, group, config.seed + start_epoch)
        record({"type": "resume", "epoch": start_epoch, "time": time.time()})
    else:
        save("last.pt", 0)  # a stop in the first epoch resumes from here
        record(
            {
                "type": "start",
                "time": time.time(),
                "pretrained": weights.pretrained,
                "weights_notice": weights.notice,
                "epochs": config.epochs,
                "steps_per_epoch": steps_per_epoch,
                "processes": group.world,
                "device": group.device.type,
            },
        )
    log.info("%s", weights.notice)

    status, done, fit_start, total_steps = "completed", start_epoch, time.perf_counter(), 0
    with StopFlag() as stop:
        for epoch in range(start_epoch, config.epochs):
            if stopping():  # the signal came while the previous epoch was being scored and saved
                status = "cancelled"
                break
            if sampler is not None:
                sampler.set_epoch(epoch)
            epoch_start = time.perf_counter()
            remaining = config.max_steps - total_steps if config.max_steps else 0
            train_stats = train_one_epoch(
                net,
                train_loader,
                task.train_loss,
                optimizer,
                scheduler,
                should_stop=stopping,
                max_steps=remaining,
                group=group,
            )
            total_steps += train_stats.pop("steps")
            if stopping():  # last.pt stays at the previous boundary: resume redoes this epoch
                status = "cancelled"
                break
            val = evaluate(model, val_loader, task, task.make_metrics(labels), group.device) if group.main else None
            val = group.from_main(val)
            value = val[task.primary_metric]
            improved = value > best_value
            if improved:
                best_value, best_epoch, bad_epochs = value, epoch + 1, 0
                best_metrics = {k: v for k, v in val.items() if not isinstance(v, list | dict)}
            else:
                bad_epochs += 1
            if improved:  # best.pt first: a last.pt that names this epoch best always has its best.pt
                save("best.pt", epoch + 1)
            save("last.pt", epoch + 1)
            epoch_time = time.perf_counter() - epoch_start
            done = epoch + 1
            event = {
                "type": "epoch",
                "epoch": done,
                "epochs": config.epochs,
                **train_stats,
                **{k: v for k, v in val.items() if not isinstance(v, list | dict)},
                "lr": optimizer.param_groups[0]["lr"],
                "epoch_s": epoch_time,
                "elapsed_s": time.perf_counter() - fit_start,
                "eta_s": epoch_time * (config.epochs - done),
                "best": improved,
                "time": time.time(),
            }
            record(event)
            log.info(
                "epoch %d/%d loss %.4f val_%s %.4f (%.0f img/s, eta %.0fs)",
                done,
                config.epochs,
                train_stats["train_loss"],
                task.primary_metric,
                value,
                train_stats["images_per_s"],
                event["eta_s"],
            )
            if config.max_steps and total_steps >= config.max_steps:
                break
            if bad_epochs >= config.patience:
                status = "early_stopped"
                break
    record({"type": "end", "status": status, "time": time.time(), "best_epoch": best_epoch})
    return FitResult(status, done, best_epoch, best_metrics, weights.pretrained, weights.notice, stop.signum)


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


def _resume_rng(generator: torch.Generator, state: dict, group: Group, fallback_seed: int) -> None:
    """This rank's random streams from ``last.pt`` (each rank's, when the same number of processes saved it)."""
    ranks = state.get("rng_ranks", [])
    if group.active and len(ranks) == group.world:
        _restore_rng(generator, ranks[group.rank])
    elif "rng" in state:
        _restore_rng(generator, state["rng"])
    else:  # a checkpoint from before the states were saved: a fresh, still deterministic, stream
        generator.manual_seed(fallback_seed)


def _rng_state(generator: torch.Generator) -> dict:
    """The random streams an epoch draws from, as tensors and numbers (``weights_only`` loads them)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "loader": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
    }


def _restore_rng(generator: torch.Generator, state: dict) -> None:
    generator.set_state(state["loader"])
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
