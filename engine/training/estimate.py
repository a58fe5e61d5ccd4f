"""How long an epoch of a configuration takes on this machine, measured with a few real training steps."""

from __future__ import annotations

import time

import torch

from engine.tasks.base import Task
from engine.training.loop import Step, cosine, make_loader, train_one_epoch

VALIDATION_SHARE = 0.15  # an epoch's validation pass, relative to its training steps


def epoch_seconds(task: Task, arch: str, img_size: int, batch_size: int, samples: list, num_classes: int) -> float:
    """Seconds per training epoch over ``samples`` (plus validation), from timing steps 2-3 of a fresh model
    (each step through the one training loop, its batch's loading included)."""
    model, _ = task.build_model(arch, num_classes, pretrained=False)
    loader = make_loader(task, samples, img_size, batch_size, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    step = Step(model, lambda inputs, targets: task.train_loss(model, inputs, targets), optimizer, cosine(optimizer, 3))
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        train_one_epoch(step, loader, epoch=1, should_stop=lambda: False, max_steps=1)
        timings.append(time.perf_counter() - began)
    fastest = min(timings[1:])  # the first step pays one-off allocations
    return fastest * max(len(samples) // batch_size, 1) * (1 + VALIDATION_SHARE)
