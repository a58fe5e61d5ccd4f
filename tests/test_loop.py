"""The one training loop: a tiny real model, real steps; divergence, cancel bookkeeping, exact resume."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from engine.training import checkpoint, loop
from engine.training.trainer import Checkpoints

ROOT = Path(__file__).resolve().parents[1]


def _data(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return list(zip(x, (x[:, 0] > 0).long(), strict=True))


def _loop(tmp_path, *, lr=0.05, epochs=3, poison_at=None, seed=0):
    """A 2-class linear model on 32 points; ``poison_at`` = the global step whose loss is NaN."""
    generator = loop.seed_everything(seed)
    model = torch.nn.Linear(4, 2)
    data = torch.utils.data.DataLoader(_data(), batch_size=8, shuffle=True, generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    calls = {"n": 0}

    def loss(inputs, targets):
        calls["n"] += 1
        value = torch.nn.functional.cross_entropy(model(inputs), targets)
        return value * float("nan") if calls["n"] == poison_at else value

    def score():
        with torch.no_grad():
            x = torch.stack([s[0] for s in _data()])
            y = torch.stack([s[1] for s in _data()])
            return {"acc": float((model(x).argmax(1) == y).float().mean())}

    the_loop = loop.Loop(
        loop.Step(model, loss, optimizer, loop.cosine(optimizer, epochs * 4)), data, epochs, generator, score=score,
        primary="acc",
    )  # fmt: skip
    saver = Checkpoints(tmp_path, lambda: {"model": model.state_dict(), **the_loop.state_dict()})
    the_loop.callbacks = (saver,)
    return the_loop, model, saver


def test_a_non_finite_loss_stops_at_once_naming_epoch_step_and_learning_rate(tmp_path):
    the_loop, _, _ = _loop(tmp_path, poison_at=6)  # 4 steps an epoch: epoch 2, step 2
    with pytest.raises(loop.Diverged) as info:
        the_loop.run()
    message = str(info.value)
    assert re.search(r"loss became nan at epoch 2, step 2 \(learning rate [0-9.e-]+\)", message), message
    assert "--lr" in message and "\n" not in message
    best = checkpoint.load(tmp_path / "best.pt")
    assert (best["epoch"], checkpoint.load(tmp_path / "last.pt")["epoch"]) == (1, 1)
    assert all(torch.isfinite(v).all() for v in best["model"].values())


def test_resume_from_last_is_exact(tmp_path):
    """Stopping after epoch 1 and resuming from last.pt ends with the weights of an uninterrupted run."""
    straight, straight_model, _ = _loop(tmp_path / "a", epochs=3)
    straight.run()

    first, _, _ = _loop(tmp_path / "b", epochs=3)
    first.epochs = 1  # as if stopped at the boundary after epoch 1
    first.run()
    state = checkpoint.load(tmp_path / "b" / "last.pt")
    resumed, resumed_model, _ = _loop(tmp_path / "b", epochs=3, seed=99)  # another seed: the state must win
    resumed_model.load_state_dict(state["model"])
    resumed.load_state_dict(state, fallback_seed=0)
    assert resumed.run() == "completed"
    for a, b in zip(straight_model.parameters(), resumed_model.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_early_stopping_and_best_tracking(tmp_path):
    the_loop, _, _ = _loop(tmp_path, lr=0.0, epochs=5)  # nothing learns: no epoch beats the first
    the_loop.patience = 2
    assert the_loop.run() == "early_stopped"
    assert (the_loop.epoch, the_loop.best_epoch) == (3, 1)


def test_there_is_one_training_step_in_the_engine():
    """Training, QAT, the pruning fine-tune and the epoch estimate all step through loop.train_one_epoch."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "engine").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ".backward(" in line
    ]
    assert found == ["engine/training/loop.py:" + found[0].split(":")[1]] and len(found) == 1, found
