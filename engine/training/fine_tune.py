"""Short fine-tuning of an already trained (pruned or quantized) model at a low learning rate."""

from __future__ import annotations

import logging
import math

import torch
from torch.utils.data import DataLoader

from engine.tasks.base import Task
from engine.training.trainer import seed_everything, train_one_epoch

log = logging.getLogger(__name__)


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
    """``epochs`` passes over ``samples`` with AdamW and a cosine decay from ``lr``; per-epoch statistics."""
    if epochs < 1:
        return []
    generator = seed_everything(seed)
    dataset = task.make_dataset(samples, img_size, train=True)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        generator=generator,
        drop_last=len(dataset) > batch_size,
        collate_fn=task.collate_fn,
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    total = epochs * max(len(loader), 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    history = []
    for epoch in range(epochs):
        stats = train_one_epoch(model, loader, task.train_loss, optimizer, scheduler, should_stop=lambda: False)
        log.info("fine-tune epoch %d/%d: loss %.4f", epoch + 1, epochs, stats["train_loss"])
        history.append(stats)
    model.eval()
    return history
