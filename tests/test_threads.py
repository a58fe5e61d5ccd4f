"""Training threads follow the cores other processes leave free."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from engine.training import threads


def test_threads_for_counts_a_core_as_taken_from_half_busy():
    assert threads.threads_for(2, 0.0) == 2
    assert threads.threads_for(2, 0.4) == 2
    assert threads.threads_for(2, 0.6) == 1
    assert threads.threads_for(2, 1.9) == 1  # never below one
    assert threads.threads_for(8, 3.2) == 5


def _until(budget: threads.ThreadBudget, wanted, timeout: float = 20.0) -> int:
    """Re-read the load every ``budget.interval`` until ``wanted(count)`` holds (or the timeout): the last count."""
    deadline = time.monotonic() + timeout
    while not wanted(count := budget.adjust()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.alone  # counts the cores other processes leave free: no other test may run beside it
def test_the_budget_drops_to_the_free_cores_when_a_neighbour_spins_and_comes_back(monkeypatch):
    monkeypatch.delenv(threads.PIN_ENV, raising=False)
    budget = threads.ThreadBudget(interval=0.5)
    if budget.cores < 2:
        pytest.skip("needs at least two cores to leave one free")
    before = torch.get_num_threads()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(budget.cores - 1)]
    try:
        budget.start()
        busy = _until(budget, lambda n: n == 1)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    try:
        assert busy == 1 and torch.get_num_threads() == 1, "every other core was taken: one thread is left"
        freed = _until(budget, lambda n: n >= 2)  # the neighbours are gone: at least one more thread than with them
        assert freed >= 2 and torch.get_num_threads() == freed
    finally:
        torch.set_num_threads(before)


def test_a_pinned_count_is_kept(monkeypatch):
    monkeypatch.setenv(threads.PIN_ENV, "1")
    before = torch.get_num_threads()
    try:
        budget = threads.ThreadBudget()
        assert budget.start() == 1 and budget.adjust(force=True) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.alone  # counts the cores other processes leave free: no other test may run beside it
def test_scoring_a_model_follows_the_free_cores_too(monkeypatch):
    """Not only the training loop: every PyTorch prediction (scoring a run's variants, compare, search, QAT's
    epoch-0 score) asks the same budget, so a job beside a busy neighbour scores on the core that is left."""
    import numpy as np

    from engine.inference.predictor import TorchPredictor
    from engine.tasks import get_task

    monkeypatch.delenv(threads.PIN_ENV, raising=False)
    monkeypatch.setattr(threads, "BUDGET", threads.ThreadBudget(interval=0.5))
    if threads.BUDGET.cores < 2:
        pytest.skip("needs at least two cores to leave one free")
    task = get_task("classification")
    model, _ = task.build_model("mobilenet_v3_small", 3, pretrained=False)
    predictor = TorchPredictor(model.eval(), task, ["a", "b", "c"], 32)
    image = np.zeros((32, 32, 3), np.uint8)
    before = torch.get_num_threads()
    torch.set_num_threads(threads.BUDGET.cores)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(threads.BUDGET.cores - 1)]
    try:
        deadline = time.monotonic() + 20
        while torch.get_num_threads() != 1 and time.monotonic() < deadline:
            assert predictor.predict([image])[0].label in (0, 1, 2)
        assert torch.get_num_threads() == 1, "every other core was taken: scoring runs on the one that is left"
    finally:
        for p in spinners:
            p.kill()
            p.wait()
        torch.set_num_threads(before)
