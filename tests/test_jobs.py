"""The job queue: real subprocesses, state in the database, at most N at once, cancel, crash recovery."""

from __future__ import annotations

import os
import signal
import time

import pytest

import engine
from engine.jobs.queue import ACTIVE

pytestmark = pytest.mark.slow


def _wait(job_id, statuses, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = next(j for j in engine.list_jobs() if j["id"] == job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def test_queue_runs_one_at_a_time_and_records_results(tiny_imagenet, workspace, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_JOBS", "1")
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    settings = {"dataset": dataset, "epochs": 2, "img_size": 32, "batch_size": 16}
    first = engine.submit_job("train", settings, "first")
    second = engine.submit_job("train", settings, "second")
    third = engine.submit_job("train", settings, "third")
    assert first["status"] in ACTIVE and first["pid"]
    assert second["status"] == "queued" and third["status"] == "queued"
    assert engine.cancel_job(third["id"])["status"] == "cancelled"

    done = _wait(first["id"], ("completed", "failed"))
    assert done["status"] == "completed", done["error"]
    assert done["run_id"] == done["result"]["run"] and done["result"]["epochs_done"] == 2
    done = _wait(second["id"], ("completed", "failed"))  # started by the first job when it finished
    assert done["status"] == "completed" and done["started"] >= engine.list_jobs()[0]["finished"] - 0.5
    assert (workspace / "jobs" / f"{first['id']}.log").read_text().count("epoch") >= 2
    assert _wait(third["id"], ("cancelled",))["run_id"] is None


def test_cancel_running_training_then_crash_recovery(tiny_imagenet, workspace):
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    job = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, "long")
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
    early = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, "early")
    _wait(early["id"], ("running",))
    engine.cancel_job(early["id"])
    early = _wait(early["id"], ("cancelled", "failed", "completed"))
    assert early["status"] == "cancelled", early["error"]

    crash = engine.submit_job("train", {"dataset": dataset, "epochs": 200, "img_size": 32}, "crash")
    crashed = _wait(crash["id"], ("running",))
    os.kill(crashed["pid"], signal.SIGKILL)
    failed = _wait(crash["id"], ("failed",))
    assert "without reporting" in failed["error"]
