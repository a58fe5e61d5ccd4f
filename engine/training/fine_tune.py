"""Short fine-tuning of an already trained (pruned) model at a low learning rate, through the one loop."""

from __future__ import annotations

import logging
import signal

import torch

from engine.errors import Cancelled
from engine.status import RunStatus
from engine.tasks.base import Task
from engine.training.loop import Loop, Step, cosine, make_loader, seed_everything

log = logging.getLogger(__name__)


class _LogLine:
    def on_epoch_end(self, loop: Loop, event: dict) -> None:
        log.info("fine-tune epoch %d/%d: loss %.4f", event["epoch"], event["epochs"], event["train_loss"])


def fine_tune(
    model: torch.nn.Module,
    task: Task,
    samples: list,
    img_size: int,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int = 0,
) -> list[dict]:
    """``epochs`` passes over ``samples`` with AdamW and a cosine decay from ``lr``; per-epoch statistics.
    A SIGTERM/SIGINT stops after the current step and raises :class:`Cancelled` (nothing of it is kept)."""
    if epochs < 1:
        return []
    generator = seed_everything(seed)
    loader = make_loader(task, samples, img_size, batch_size, generator=generator)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    step = Step(
        model,
        lambda inputs, targets: task.train_loss(model, inputs, targets),
        optimizer,
        cosine(optimizer, epochs * max(len(loader), 1)),
    )
    history: list[dict] = []

    class _Keep:
        def on_epoch_end(self, loop: Loop, event: dict) -> None:
            history.append({k: event[k] for k in ("train_loss", "images_per_s", "threads")})

    loop = Loop(step, loader, epochs, generator, callbacks=(_Keep(), _LogLine()))
    if loop.run() == RunStatus.CANCELLED:
        raise Cancelled(loop.signal or signal.SIGTERM)
    model.eval()
    return history
