"""The job queue with a trivial verb: one job at a time, the finishing job starts the next, cancel, results."""

from __future__ import annotations

import engine
from engine.status import JOB_ACTIVE as ACTIVE
from tests.conftest import wait_for


def test_one_job_at_a_time_in_order(workspace, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_JOBS", "1")
    # a light verb (no torch import in the job's process): the queue's mechanics, not a verb's work, are tested
    first = engine.submit_job("list_datasets", {}, title="first")
    second = engine.submit_job("list_datasets", {}, title="second")
    third = engine.submit_job("list_datasets", {}, title="third")
    assert first["status"] in ACTIVE and first["pid"]
    assert (second["status"], third["status"]) == ("queued", "queued")
    assert engine.cancel_job(third["id"])["status"] == "cancelled"

    done = wait_for(first["id"], ("completed", "failed"))
    assert done["status"] == "completed", done["error"]
    assert done["result"] == []  # the verb's own answer: an empty workspace has no datasets
    later = wait_for(second["id"], ("completed", "failed"))  # started by the first job as it finished
    assert later["status"] == "completed" and later["started"] >= done["finished"] - 0.5
    assert wait_for(third["id"], ("cancelled",))["started"] is None
    assert (workspace / "jobs" / f"{first['id']}.log").is_file()


def test_a_failing_verb_fails_the_job_with_its_message(workspace):
    job = engine.submit_job("dataset_info", {"dataset": 42}, title="missing")
    failed = wait_for(job["id"], ("completed", "failed"))
    assert failed["status"] == "failed" and "no dataset 42" in failed["error"]


def test_only_verbs_can_be_jobs(workspace):
    try:
        engine.submit_job("rm -rf", {})
    except engine.StudioError as exc:
        assert "unknown job verb 'rm -rf'; valid: sample, import_dataset" in str(exc)
    else:
        raise AssertionError("an unknown verb was queued")


def test_a_ray_job_reserves_a_cpu_per_training_process(monkeypatch):
    from engine.jobs.ray_cluster import cpus

    monkeypatch.delenv("STUDIO_RAY_JOB_CPUS", raising=False)
    assert cpus({"kwargs": {"dataset": 1}}) == 1.0
    assert cpus({"kwargs": {"dataset": 1, "nproc": 3}}) == 3.0  # torchrun's 3 processes need 3 CPUs
    monkeypatch.setenv("STUDIO_RAY_JOB_CPUS", "4")
    assert cpus({"kwargs": {"nproc": 2}}) == 4.0
    monkeypatch.setenv("STUDIO_RAY_JOB_CPUS", "lots")
    try:
        cpus({"kwargs": {}})
    except engine.StudioError as exc:
        assert "STUDIO_RAY_JOB_CPUS='lots' is not a number of CPUs" in str(exc)
    else:
        raise AssertionError("a bad CPU count was accepted")
