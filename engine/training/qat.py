"""Quantization-aware training as a resumable job: calibrate INT8 quantizers on the trained network, fine-tune
it with them in place at a low learning rate, keep the epoch that scores best on the val split.

Like training it writes an event per epoch (``qat/events.jsonl`` in the run folder), saves ``qat/last.pt``
after every epoch and on SIGTERM/SIGINT (then raises :class:`Cancelled`), and continues from it when it is
started again with the same settings on the same trained model. Checkpoints are read with
``weights_only=True``.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from engine.compression import qat
from engine.errors import Cancelled
from engine.evaluation.evaluate import network_metrics
from engine.store.atomic import append_jsonl
from engine.tasks.base import Task
from engine.training import checkpoint
from engine.training.config import QATSettings
from engine.training.trainer import StopFlag, seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QATResult:
    network: torch.nn.Module  # the quantized network of the best epoch (fake-quantizers in place)
    model: torch.nn.Module  # the fine-tuned torch model the network wraps (detection decodes with it)
    facts: dict  # recorded with the variant's metrics


def _infer(network: torch.nn.Module):
    def infer(x: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            out = network(torch.from_numpy(x))
        return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]

    return infer


def _train_mode(network: torch.nn.Module) -> None:
    """Train mode with BatchNorm statistics frozen: the quantizer ranges were calibrated on them, and small
    fine-tuning batches would only make them noisier."""
    network.train()
    for module in network.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def quantization_aware_training(
    trained: torch.nn.Module,
    task: Task,
    labels: list[str],
    train_samples: list,
    val_samples: list,
    img_size: int,
    settings: QATSettings,
    folder: Path,
    source: dict,
) -> QATResult:
    """QAT of ``trained`` (left untouched); ``folder`` holds its checkpoints and events, ``source`` identifies
    the trained model (a checkpoint made from another model or with other settings is not resumed)."""
    folder.mkdir(parents=True, exist_ok=True)
    events, last, best = folder / "events.jsonl", folder / "last.pt", folder / "best.pt"
    fingerprint = {**asdict(settings), **source}
    model = copy.deepcopy(trained).eval()
    network = task.export_module(model)
    generator = seed_everything(settings.seed)

    saved = checkpoint.load(last, qat.CHECKPOINT_CLASSES) if last.is_file() else None
    if saved is not None and saved.get("fingerprint") != fingerprint:
        log.info("QAT: %s was made with other settings or another model; starting over", last)
        saved = None
    if saved is not None:
        network = qat.restore(network, saved["network"])
    else:
        network = qat.prepare(network, train_samples, img_size, calib_size=settings.calib_size, seed=settings.seed)

    dataset = task.make_dataset(train_samples, img_size, train=True)
    loader = DataLoader(
        dataset,
        batch_size=settings.batch_size,
        shuffle=True,
        generator=generator,
        drop_last=len(dataset) > settings.batch_size,
        collate_fn=task.collate_fn,
    )
    optimizer = torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=settings.lr, weight_decay=0)
    total = settings.epochs * max(len(loader), 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))

    def score() -> float:
        network.eval()
        metrics = network_metrics(task, labels, img_size, model, _infer(network), val_samples)
        return float(metrics[task.primary_metric])

    if saved is not None:
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        start, history = saved["epoch"], saved["history"]
        generator.manual_seed(settings.seed + start)
        append_jsonl(events, {"type": "resume", "epoch": start, "time": time.time()})
        log.info("QAT: resuming after epoch %d of %d", start, settings.epochs)
    else:
        start, history = 0, [{"epoch": 0, task.primary_metric: score()}]  # epoch 0: calibrated, not trained
        checkpoint.save(best, {"fingerprint": fingerprint, "network": qat.state(network), "epoch": 0})
        append_jsonl(events, {"type": "start", "epochs": settings.epochs, "steps_per_epoch": len(loader),
                              "val_init": history[0][task.primary_metric], "time": time.time()})  # fmt: skip

    def payload(epoch: int) -> dict:
        return {
            "fingerprint": fingerprint,
            "network": qat.state(network),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "history": history,
        }

    with StopFlag() as stop:
        for epoch in range(start, settings.epochs):
            began = time.perf_counter()
            _train_mode(network)
            total_loss, seen = 0.0, 0
            for inputs, targets in loader:
                loss = task.network_loss(model, network, inputs, targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                total_loss, seen = total_loss + loss.item() * len(targets), seen + len(targets)
                if stop.requested:
                    break
            if stop.requested:
                checkpoint.save(last, payload(epoch))  # a resume redoes this epoch
                append_jsonl(events, {"type": "cancelled", "epoch": epoch, "time": time.time()})
                log.info("QAT: cancelled during epoch %d; last.pt saved, run optimize again to resume", epoch + 1)
                raise Cancelled
            value = score()
            improved = value > max(h[task.primary_metric] for h in history)
            history.append({"epoch": epoch + 1, "train_loss": total_loss / max(seen, 1), task.primary_metric: value})
            if improved:
                checkpoint.save(best, {"fingerprint": fingerprint, "network": qat.state(network), "epoch": epoch + 1})
            checkpoint.save(last, payload(epoch + 1))
            took = time.perf_counter() - began
            append_jsonl(events, {"type": "epoch", "epoch": epoch + 1, "epochs": settings.epochs, "best": improved,
                                  **history[-1], "lr": optimizer.param_groups[0]["lr"], "epoch_s": took,
                                  "eta_s": took * (settings.epochs - epoch - 1), "time": time.time()})  # fmt: skip
            log.info("QAT epoch %d/%d: loss %.4f, val %s %.4f", epoch + 1, settings.epochs,
                     history[-1]["train_loss"], task.primary_metric, value)  # fmt: skip

    kept = checkpoint.load(best, qat.CHECKPOINT_CLASSES)
    network.load_state_dict(kept["network"]["weights"])
    network.eval()
    append_jsonl(events, {"type": "end", "best_epoch": kept["epoch"], "time": time.time()})
    facts = {"qat": {"epochs": settings.epochs, "best_epoch": kept["epoch"], "lr": settings.lr, "history": history}}
    return QATResult(network, model.eval(), facts)
