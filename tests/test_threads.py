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


def test_the_budget_drops_to_the_free_cores_when_a_neighbour_spins_and_comes_back(monkeypatch):
    monkeypatch.delenv(threads.PIN_ENV, raising=False)
    budget = threads.ThreadBudget(interval=1.0)
    if budget.cores < 2:
        pytest.skip("needs at least two cores to leave one free")
    before = torch.get_num_threads()
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(budget.cores - 1)]
    try:
        budget.start()
        time.sleep(1.5)
        busy = budget.adjust()
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    try:
        assert busy == 1 and torch.get_num_threads() == 1, "every other core was taken: one thread is left"
        time.sleep(1.5)
        budget.adjust(force=True)  # the neighbours are gone: at least one more thread than with them
        assert torch.get_num_threads() >= 2
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
