"""Training jobs: real subprocesses cancelled while they train, and a crashed job detected (the queue's
ordering is tested with a trivial verb in test_queue.py)."""

from __future__ import annotations

import os
import signal
import time

import pytest

import engine

pytestmark = pytest.mark.e2e


def _wait(job_id, statuses, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = next(j for j in engine.list_jobs() if j["id"] == job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def test_cancel_running_training_then_crash_recovery(tiny_imagenet, workspace):
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    job = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, title="long")
    running = _wait(job["id"], ("running",))
    deadline = time.time() + 60
    while running["run_id"] is None and time.time() < deadline:
        time.sleep(0.2)
        running = next(j for j in engine.list_jobs() if j["id"] == job["id"])
    assert running["run_id"] is not None  # known while it trains, so the Train page can follow it
    engine.cancel_job(job["id"])
    cancelled = _wait(job["id"], ("cancelled", "failed", "completed"))
    assert cancelled["status"] == "cancelled"
    assert engine.show_run(cancelled["run_id"])["status"] == "cancelled"

    # cancelled at once, before the training loop installs its own SIGTERM handler: still "cancelled"
    early = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, title="early")
    _wait(early["id"], ("running",))
    engine.cancel_job(early["id"])
    early = _wait(early["id"], ("cancelled", "failed", "completed"))
    assert early["status"] == "cancelled", early["error"]

    crash = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, title="crash")
    crashed = _wait(crash["id"], ("running",))
    os.kill(crashed["pid"], signal.SIGKILL)
    failed = _wait(crash["id"], ("interrupted",))  # a dead owner is interrupted, never "running" forever
    assert "without reporting" in failed["error"]


def test_a_cancel_before_the_loop_takes_sigterm_leaves_the_run_cancelled(tiny_imagenet, workspace, monkeypatch):
    """The job runner turns SIGTERM into ``Cancelled`` until the loop takes the signal over; arriving while the
    run is marked running and torch's training modules still import, it once left the run "running", which
    later read as interrupted (a full test run saw it under load)."""
    from engine.errors import Cancelled
    from engine.pipeline import training

    dataset = engine.import_dataset(tiny_imagenet)["dataset"]

    def cancelled_here(run_dir):  # the first log line: after the run is marked running, before fit
        raise Cancelled

    monkeypatch.setattr(training, "run_log", cancelled_here)
    with pytest.raises(Cancelled):
        engine.train(dataset=dataset, epochs=1, img_size=32)
    (run,) = engine.list_runs()
    assert run["status"] == "cancelled"
