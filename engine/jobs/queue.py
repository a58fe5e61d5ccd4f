"""The job queue: submit, start (at most N at once), reap crashed jobs, cancel, logs.

Two backends behind the same verbs, chosen by ``STUDIO_JOB_BACKEND``:

- ``local`` (default): subprocesses on this machine. No daemon is needed: a job that finishes starts the
  next queued one, and every ``tick`` (the dashboard calls it when it polls) starts queued jobs into free
  slots and marks jobs whose process died as failed.
- ``ray``: jobs go to the Ray cluster at ``RAY_ADDRESS`` (:mod:`engine.jobs.ray_cluster`); Ray queues and
  places them, ``tick`` reconciles their state from the cluster.

State lives in the workspace database, so jobs survive page changes, refreshes and app restarts. Each job
row remembers its backend, so switching backends never orphans a job that is still running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from engine.errors import StudioError
from engine.jobs import ray_cluster
from engine.pipeline.context import Context
from engine.status import JOB_ACTIVE, JOB_UNFINISHED, JobStatus
from engine.store.db import job_backend_setting

ENGINE_ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("local", "ray")


def backend() -> str:
    """The backend new jobs go to: ``$STUDIO_JOB_BACKEND`` (``local`` when unset)."""
    name = job_backend_setting()
    if name not in BACKENDS:
        msg = f"STUDIO_JOB_BACKEND={name!r} is not a job backend; use one of: {', '.join(BACKENDS)} (or unset it)"
        raise StudioError(msg)
    return name


def max_jobs() -> int:
    return max(int(os.environ.get("STUDIO_MAX_JOBS", "1")), 1)


def job_log(ctx: Context, job_id: int) -> Path:
    return ctx.ws.root / "jobs" / f"{job_id}.log"


def submit(ctx: Context, verb: str, kwargs: dict, title: str) -> dict:
    """Queue ``engine.<verb>(**kwargs)`` as a background job (the facade checks the verb); start it now if a
    slot is free."""
    where = backend()
    if where == "ray":
        ray_cluster.client()  # refused before anything is queued when the cluster is unset or unreachable
    job_id = ctx.db.add_job(verb=verb, kwargs=kwargs, title=title, backend=where)
    if where == "ray":
        ray_cluster.submit(ctx, job_id)
    else:
        tick(ctx)
    return ctx.db.get_job(job_id)


CANCEL_REQUESTED = "cancel requested"  # written on a running job's row before its process is sent SIGTERM


def tick(ctx: Context) -> None:
    """Reap local jobs whose process died, start queued local jobs into free slots, and bring Ray jobs' state
    up to date with the cluster."""
    unfinished = ctx.db.list_jobs(JOB_UNFINISHED)
    ray_cluster.sync(ctx, [j for j in unfinished if j["backend"] == "ray"])
    for job in unfinished:
        local = job["backend"] == "local" and job["status"] in JOB_ACTIVE
        if local and job["pid"] and not _alive(job["pid"], job["id"]):
            fresh = ctx.db.get_job(job["id"])  # it may have finished between the two reads
            if fresh["status"] in JOB_ACTIVE and fresh["error"] == CANCEL_REQUESTED:  # SIGTERM before its handler
                ctx.db.update_job(job["id"], status=JobStatus.CANCELLED, finished=time.time(), error="")
            elif fresh["status"] in JOB_ACTIVE:
                ctx.db.update_job(job["id"], status=JobStatus.INTERRUPTED, finished=time.time(),
                                  error="the job's process ended without reporting (killed or crashed); a training"
                                  " run resumes from its last finished epoch")  # fmt: skip
    for job_id in ctx.db.claim_queued_jobs(max_jobs()):
        _start(ctx, job_id)


def _start(ctx: Context, job_id: int) -> None:
    log = job_log(ctx, job_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "jobs", "run", str(job_id), "--workspace", str(ctx.ws.root)],
            cwd=ENGINE_ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    ctx.db.update_job(job_id, pid=proc.pid)


def cancel(ctx: Context, job_id: int | str) -> dict:
    """Queued: dropped. Running: SIGTERM (training saves last.pt first and can be resumed)."""
    job = ctx.db.get_job(job_id)
    if job["backend"] == "ray" and job["status"] in JOB_UNFINISHED:
        ray_cluster.cancel(ctx, job)
    elif job["status"] == JobStatus.QUEUED:
        ctx.db.update_job(job["id"], status=JobStatus.CANCELLED, finished=time.time())
    elif job["status"] in JOB_ACTIVE and job["pid"]:
        ctx.db.update_job(job["id"], error=CANCEL_REQUESTED)  # a process killed before it can say so was cancelled
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job["pid"], signal.SIGTERM)
    else:
        msg = f"job {job['id']} is {job['status']}; only queued or running jobs can be cancelled"
        raise StudioError(msg)
    return ctx.db.get_job(job["id"])


def list_jobs(ctx: Context, active_only: bool = False) -> list[dict]:
    return ctx.db.list_jobs(JOB_UNFINISHED if active_only else ())


def log_tail(ctx: Context, job: dict, lines: int) -> list[str]:
    """The log's last ``lines`` lines, without progress-bar noise."""
    text = log_text(ctx, job).splitlines()
    return [line for line in text if "it/s]" not in line and "━" not in line][-lines:]


def log_text(ctx: Context, job: dict) -> str:
    """What the job (a row of the jobs table) printed: its log file here, or the Ray cluster's copy."""
    if job["backend"] == "ray":
        return ray_cluster.logs(job)
    path = job_log(ctx, job["id"])
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def _alive(pid: int, job_id: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and "jobs" in proc.cmdline() and str(job_id) in proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
