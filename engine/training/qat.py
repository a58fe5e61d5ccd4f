"""Quantization-aware training as a resumable job: calibrate INT8 quantizers on the trained network, fine-tune
it with them in place at a low learning rate, keep the epoch that scores best on the val split.

It runs the one training loop (:mod:`engine.training.loop`) with training's callbacks: an event per epoch
(``qat/events.jsonl`` in the run folder), ``qat/best.pt`` and ``qat/last.pt`` at every epoch boundary. A
SIGTERM/SIGINT stops after the current step and raises :class:`Cancelled`; ``last.pt`` stays at the last
boundary, with the random states and schedule there, so a resume with the same settings on the same trained
model redoes the unfinished epoch exactly. Checkpoints are read with ``weights_only=True``.
"""

from __future__ import annotations

import copy
import logging
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.compression import qat
from engine.errors import Cancelled
from engine.evaluation.evaluate import network_metrics
from engine.status import RunStatus
from engine.tasks.base import Task
from engine.training import checkpoint
from engine.training.loop import Loop, Step, cosine, make_loader, seed_everything
from engine.training.trainer import Checkpoints, EventLog

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


@dataclass
class _History:
    """Callback: each epoch's loss and score, kept in the checkpoints and the variant's facts."""

    history: list[dict]
    primary: str

    def on_epoch_end(self, loop: Loop, event: dict) -> None:
        self.history.append(
            {"epoch": event["epoch"], "train_loss": event["train_loss"], self.primary: event[self.primary]}
        )


def quantization_aware_training(
    trained: torch.nn.Module,
    task: Task,
    labels: list[str],
    train_samples: list,
    val_samples: list,
    img_size: int,
    settings: Any,  # engine.export.variants.int8_qat.QATSettings, resolved (epochs, lr, batch size, calibration)
    folder: Path,
    source: dict,
) -> QATResult:
    """QAT of ``trained`` (left untouched); ``folder`` holds its checkpoints and events, ``source`` identifies
    the trained model (a checkpoint made from another model or with other settings is not resumed)."""
    folder.mkdir(parents=True, exist_ok=True)
    last = folder / "last.pt"
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

    loader = make_loader(task, train_samples, img_size, settings.batch_size, generator=generator)
    optimizer = torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=settings.lr, weight_decay=0)
    primary = task.primary_metric

    def score() -> dict:
        network.eval()
        return {primary: float(network_metrics(task, labels, img_size, model, _infer(network), val_samples)[primary])}

    history: list[dict] = []
    loop = Loop(
        Step(
            network,
            lambda inputs, targets: task.network_loss(model, network, inputs, targets),
            optimizer,
            cosine(optimizer, settings.epochs * max(len(loader), 1)),
            train_mode=lambda: _train_mode(network),
        ),
        loader,
        settings.epochs,
        generator,
        score=score,
        primary=primary,
    )

    def payload() -> dict:
        return {"fingerprint": fingerprint, "network": qat.state(network), "history": history, **loop.state_dict()}

    saver = Checkpoints(folder, payload)
    events = EventLog(folder / "events.jsonl", line="QAT epoch")
    loop.callbacks = (_History(history, primary), saver, events)
    if saved is not None:
        loop.load_state_dict(saved, settings.seed)
        history.extend(saved["history"])
        events.record({"type": "resume", "epoch": loop.epoch, "time": time.time()})
        log.info("QAT: resuming after epoch %d of %d", loop.epoch, settings.epochs)
    else:  # epoch 0: calibrated, not trained — the score every epoch must beat
        first = score()
        history.append({"epoch": 0, **first})
        loop.best_value, loop.best_metrics = first[primary], first
        saver.save("best.pt")
        saver.save("last.pt")
        events.record({"type": "start", "epochs": settings.epochs, "steps_per_epoch": len(loader),
                       "val_init": first[primary], "time": time.time()})  # fmt: skip
    status = loop.run()
    if status == RunStatus.CANCELLED:  # last.pt is at the last epoch boundary: a resume redoes the unfinished epoch
        events.record({"type": "cancelled", "epoch": loop.epoch, "time": time.time()})
        log.info("QAT: cancelled during epoch %d; run optimize again to resume", loop.epoch + 1)
        raise Cancelled(loop.signal or signal.SIGTERM)

    kept = checkpoint.load(folder / "best.pt", qat.CHECKPOINT_CLASSES)
    network.load_state_dict(kept["network"]["weights"])
    network.eval()
    events.record({"type": "end", "best_epoch": kept["epoch"], "time": time.time()})
    facts = {"qat": {"epochs": settings.epochs, "best_epoch": kept["epoch"], "lr": settings.lr, "history": history}}
    return QATResult(network, model.eval(), facts)
