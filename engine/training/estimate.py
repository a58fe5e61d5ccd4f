"""How long an epoch of a configuration takes on this machine, measured with a few real training steps."""

from __future__ import annotations

import itertools
import time

import torch
from torch.utils.data import DataLoader

from engine.tasks.base import Task

VALIDATION_SHARE = 0.15  # an epoch's validation pass, relative to its training steps


def epoch_seconds(task: Task, arch: str, img_size: int, batch_size: int, samples: list, num_classes: int) -> float:
    """Seconds per training epoch over ``samples`` (plus validation), from timing steps 2-3 of a fresh model."""
    model, _ = task.build_model(arch, num_classes, pretrained=False)
    dataset = task.make_dataset(samples, img_size, train=True)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=task.collate_fn)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    timings = []
    for inputs, targets in itertools.islice(loader, 3):
        began = time.perf_counter()
        loss = task.train_loss(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        timings.append(time.perf_counter() - began)
    step = min(timings[1:] or timings)  # the first step pays one-off allocations
    return step * max(len(dataset) // batch_size, 1) * (1 + VALIDATION_SHARE)
