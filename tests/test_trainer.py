"""The training loop's bookkeeping with stubbed epochs: early stopping, best/last checkpoints, cancel, resume.

The real loop is exercised end to end in test_cli_e2e.py and test_training.py; here each epoch is a stub so
the counters are tested in a second, not by training.
"""

from __future__ import annotations

import pytest

from engine.store.atomic import read_jsonl
from engine.tasks import get_task
from engine.training import checkpoint, loop, trainer
from engine.training.config import TrainConfig

LABELS = ["a", "b"]
SAMPLES = [("unused.png", i % 2) for i in range(8)]  # never decoded: the epochs are stubs


@pytest.fixture
def stub_epochs(monkeypatch):
    """Epochs that do nothing; validation returns the next value of ``values``; ``stop_at`` sends 'SIGTERM'."""

    real_flag = loop.StopFlag

    def install(values, stop_at=None):
        values, count = iter(values), {"n": 0}

        def train_one_epoch(step, loader, *, epoch, should_stop, max_steps=0, group=None):
            count["n"] += 1
            if count["n"] == stop_at:
                flag.requested = True
            return {"train_loss": 1.0 / count["n"], "images_per_s": 100.0, "steps": 1}

        flag = real_flag()
        monkeypatch.setattr(loop, "train_one_epoch", train_one_epoch)

        def evaluate(*_):
            top1 = next(values)
            return {"val_loss": 1.0, "top1": top1, "confusion": [[1, 0], [0, 1]], "per_class_recall": {"a": top1}}

        monkeypatch.setattr(trainer, "evaluate", evaluate)
        monkeypatch.setattr(loop, "StopFlag", lambda: flag)

    return install


def _fit(tmp_path, resume=False, **settings):
    config = TrainConfig(task="classification", img_size=32, batch_size=4, **settings).resolved()
    return trainer.fit(tmp_path, config, get_task("classification"), LABELS, SAMPLES, SAMPLES, resume=resume)


def test_early_stopping_keeps_the_best_epoch(tmp_path, stub_epochs):
    stub_epochs([0.5, 0.6, 0.6, 0.55, 0.9])  # best at epoch 2, then 2 epochs without improvement
    result = _fit(tmp_path, epochs=10, patience=2)
    assert (result.status, result.epochs_done, result.best_epoch) == ("early_stopped", 4, 2)
    # the best epoch's numbers and per-class scores (the run keeps them), not the confusion matrix
    assert result.best_metrics == {"val_loss": 1.0, "top1": 0.6, "per_class_recall": {"a": 0.6}}
    assert checkpoint.load(tmp_path / "checkpoints" / "best.pt")["epoch"] == 2
    assert checkpoint.load(tmp_path / "checkpoints" / "last.pt")["epoch"] == 4
    events = [e for e in read_jsonl(tmp_path / "events.jsonl") if e["type"] == "epoch"]
    assert [e["best"] for e in events] == [True, True, False, False]
    assert events[-1]["eta_s"] >= 0 and events[0]["epochs"] == 10
    assert not [k for e in events for k, v in e.items() if isinstance(v, dict | list)]  # epoch events: numbers only


def test_improving_runs_complete_every_epoch(tmp_path, stub_epochs):
    stub_epochs([0.1, 0.2, 0.3])
    result = _fit(tmp_path, epochs=3, patience=1)
    assert (result.status, result.epochs_done, result.best_epoch) == ("completed", 3, 3)


def test_cancel_saves_the_unfinished_epoch_for_resume(tmp_path, stub_epochs):
    stub_epochs([0.4, 0.5], stop_at=2)
    result = _fit(tmp_path, epochs=5)
    assert (result.status, result.epochs_done) == ("cancelled", 1)
    assert checkpoint.load(tmp_path / "checkpoints" / "last.pt")["epoch"] == 1  # epoch 2 is redone on resume

    stub_epochs([0.5, 0.7, 0.6, 0.6])
    resumed = _fit(tmp_path, resume=True, epochs=5)
    assert (resumed.status, resumed.epochs_done, resumed.best_epoch) == ("completed", 5, 3)
    epochs = [e["epoch"] for e in read_jsonl(tmp_path / "events.jsonl") if e["type"] == "epoch"]
    assert epochs == [1, 2, 3, 4, 5]
