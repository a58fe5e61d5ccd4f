"""The one training loop. Training, QAT and the pruning fine-tune all step through :func:`train_one_epoch`
and run their epochs with :class:`Loop`; each supplies only what differs (a :class:`Step`: the module, the
loss, the optimizer and schedule; how it is scored; its callbacks).

Shared by all three:
- **cancel**: SIGTERM/SIGINT stops after the current step; the run's ``last.pt`` stays at the previous epoch
  boundary and :meth:`Loop.run` returns ``"cancelled"``, so a resume redoes that epoch;
- **resume**: exact — :meth:`Loop.state_dict` holds the optimizer, the schedule, the best-so-far bookkeeping
  and the random-number states (the shuffle's generator, torch's, numpy's; per rank under DDP);
- **divergence**: a non-finite loss stops at once with :class:`Diverged` (one line naming the epoch, the step
  and the learning rate); nothing is saved after it, so the last good checkpoints stay;
- **events**: callbacks hear every finished epoch (checkpoints, events.jsonl, the log line, MLflow).
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, WeightedRandomSampler

from engine.errors import StudioError
from engine.status import RunStatus
from engine.training import threads
from engine.training.distributed import SINGLE, Group, to_device

log = logging.getLogger(__name__)


class Diverged(StudioError):
    """The loss became NaN or infinite: training cannot recover from it."""


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


def make_loader(
    task: Any,
    samples: list,
    img_size: int,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    train: bool = True,
    group: Group = SINGLE,
    seed: int = 0,
    augment: str = "basic",
    balance: str = "none",
) -> DataLoader:
    """The task's dataset of ``samples`` in batches of ``batch_size`` (the global batch: each rank of a
    distributed ``group`` takes its share of the same ``seed``-ed shuffle). Training batches are shuffled by
    ``generator``, augmented by the policy ``augment``, and a set larger than one batch drops its last partial
    batch; evaluation keeps the order. ``balance="sampler"`` draws every class equally often (with
    replacement, as many draws per epoch as images; single process)."""
    dataset = task.make_dataset(samples, img_size, train=train, augment=augment)
    if not train:
        return DataLoader(dataset, batch_size=batch_size, collate_fn=task.collate_fn)
    drop_last = len(dataset) > batch_size
    sampler = None
    if group.active:
        sampler = DistributedSampler(dataset, group.world, group.rank, seed=seed, drop_last=drop_last)
    elif balance == "sampler":
        targets = dataset.targets  # classification: one class index per image
        counts = Counter(targets)
        weights = [1.0 / counts[t] for t in targets]
        sampler = WeightedRandomSampler(weights, len(targets), replacement=True, generator=generator)
    return DataLoader(
        dataset,
        batch_size=batch_size // group.world,
        shuffle=sampler is None,
        sampler=sampler,
        generator=generator if sampler is None else None,
        drop_last=drop_last,
        collate_fn=task.collate_fn,
    )


def cosine(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay from the optimizer's learning rate to 0 over ``total_steps`` (fine-tunes: QAT, pruning)."""
    total = max(total_steps, 1)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    )


@dataclass
class Step:
    """What one optimisation step trains: ``loss(inputs, targets)`` through ``net``'s parameters."""

    net: torch.nn.Module
    loss: Callable[[Any, Any], torch.Tensor]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    train_mode: Callable[[], None] | None = None  # default: net.train()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])


def train_one_epoch(
    step: Step,
    loader: DataLoader,
    *,
    epoch: int,
    should_stop: Callable[[], bool],
    max_steps: int = 0,
    group: Group = SINGLE,
) -> dict:
    """One pass over ``loader`` (``epoch`` counts from 1); with a distributed ``group`` the loss and the
    throughput are those of all ranks. Raises :class:`Diverged` at the first non-finite loss."""
    (step.train_mode or step.net.train)()
    total_loss, seen, steps = 0.0, 0, 0
    start = time.perf_counter()
    for batch_inputs, batch_targets in loader:
        inputs, targets = to_device(batch_inputs, group.device), to_device(batch_targets, group.device)
        loss = step.loss(inputs, targets)
        if not torch.isfinite(loss.detach()):
            msg = (
                f"the loss became {loss.item()} at epoch {epoch}, step {steps + 1} (learning rate {step.lr:.3g}):"
                " training diverged, most likely because the learning rate is too high; the last good checkpoint"
                " is kept — start a new run with a lower --lr"
            )
            raise Diverged(msg)
        step.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        step.optimizer.step()
        step.scheduler.step()
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


class Callback(Protocol):
    def on_epoch_end(self, loop: Loop, event: dict) -> None:
        """``event``: the epoch's record (type, epoch, epochs, train stats, scores, lr, timing, best)."""


@dataclass
class Loop:
    """Epochs of :func:`train_one_epoch`, scored by ``score`` (validation metrics; None: not scored), with
    early stopping on ``primary`` after ``patience`` epochs without improvement (0: never)."""

    step: Step
    loader: DataLoader
    epochs: int
    generator: torch.Generator
    score: Callable[[], dict] | None = None
    primary: str = ""
    callbacks: Sequence[Callback] = ()
    patience: int = 0
    max_steps: int = 0  # 0: no limit (a smoke run's cap over all epochs)
    group: Group = SINGLE
    # progress: what last.pt restores
    epoch: int = 0
    best_value: float = -math.inf
    best_epoch: int = 0
    best_metrics: dict = field(default_factory=dict)
    bad_epochs: int = 0
    total_steps: int = 0
    signal: int = 0  # the signal that cancelled the last run()

    def run(self) -> str:
        """Train from ``self.epoch`` to ``self.epochs``: ``completed``, ``early_stopped`` or ``cancelled``."""
        status, began = RunStatus.COMPLETED, time.perf_counter()
        with StopFlag() as stop:

            def stopping() -> bool:
                return self.group.any(stop.requested)

            for epoch in range(self.epoch, self.epochs):
                if stopping():  # the signal came while the previous epoch was being scored and saved
                    status = RunStatus.CANCELLED
                    break
                if isinstance(self.loader.sampler, DistributedSampler):
                    self.loader.sampler.set_epoch(epoch)
                epoch_start = time.perf_counter()
                remaining = self.max_steps - self.total_steps if self.max_steps else 0
                stats = train_one_epoch(
                    self.step,
                    self.loader,
                    epoch=epoch + 1,
                    should_stop=stopping,
                    max_steps=remaining,
                    group=self.group,
                )
                self.total_steps += stats.pop("steps")
                if stopping():  # last.pt stays at the previous boundary: resume redoes this epoch
                    status = RunStatus.CANCELLED
                    break
                scores = self.score() if self.score is not None else {}
                improved = self._track(epoch + 1, scores)
                took = time.perf_counter() - epoch_start
                event = {
                    "type": "epoch",
                    "epoch": self.epoch,
                    "epochs": self.epochs,
                    **stats,
                    **_scalars(scores),
                    "lr": self.step.lr,
                    "epoch_s": took,
                    "elapsed_s": time.perf_counter() - began,
                    "eta_s": took * (self.epochs - self.epoch),
                    "best": improved,
                    "time": time.time(),
                }
                for callback in self.callbacks:
                    callback.on_epoch_end(self, event)
                if self.max_steps and self.total_steps >= self.max_steps:
                    break
                if self.patience and self.bad_epochs >= self.patience:
                    status = RunStatus.EARLY_STOPPED
                    break
        self.signal = stop.signum
        return status

    def _track(self, epoch: int, scores: dict) -> bool:
        self.epoch = epoch
        if not self.primary:
            return False
        value = scores[self.primary]
        if value > self.best_value:
            self.best_value, self.best_epoch, self.bad_epochs = value, epoch, 0
            self.best_metrics = _kept(scores)
            return True
        self.bad_epochs += 1
        return False

    def state_dict(self) -> dict:
        """The optimizer, the schedule, the progress and the random streams (every rank takes part)."""
        rng = rng_state(self.generator)
        return {
            "optimizer": self.step.optimizer.state_dict(),
            "scheduler": self.step.scheduler.state_dict(),
            "epoch": self.epoch,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "best_metrics": self.best_metrics,
            "total_steps": self.total_steps,
            "rng": rng,
            **({"rng_ranks": self.group.gather(rng)} if self.group.active else {}),
        }

    def load_state_dict(self, state: dict, fallback_seed: int) -> None:
        self.step.optimizer.load_state_dict(state["optimizer"])
        self.step.scheduler.load_state_dict(state["scheduler"])
        self.epoch, self.best_value = state["epoch"], state["best_value"]
        self.best_epoch, self.bad_epochs = state["best_epoch"], state["bad_epochs"]
        self.best_metrics, self.total_steps = state["best_metrics"], state.get("total_steps", 0)
        ranks = state.get("rng_ranks", [])
        if self.group.active and len(ranks) == self.group.world:
            restore_rng(self.generator, ranks[self.group.rank])
        elif "rng" in state:
            restore_rng(self.generator, state["rng"])
        else:  # a checkpoint from before the states were saved: a fresh, still deterministic, stream
            self.generator.manual_seed(fallback_seed + self.epoch)


def _scalars(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if not isinstance(v, list | dict)}


def _kept(scores: dict) -> dict:
    """What a run records of its best epoch: every number, and the per-class scores (class -> value) that show
    whether a small class is found; not the confusion matrix (the test split's is in the variant table)."""
    return {k: v for k, v in scores.items() if not isinstance(v, list | dict) or k.startswith("per_class_")}


def rng_state(generator: torch.Generator) -> dict:
    """The random streams an epoch draws from, as tensors and numbers (``weights_only`` loads them)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "loader": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
    }


def restore_rng(generator: torch.Generator, state: dict) -> None:
    generator.set_state(state["loader"])
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
