"""The job queue: submit, start (at most N at once), reap crashed jobs, cancel.

No daemon is needed: a job that finishes starts the next queued one, and every ``tick`` (the dashboard
calls it when it polls) starts queued jobs into free slots and marks jobs whose process died as failed.
State lives in the workspace database, so jobs survive page changes, refreshes and app restarts.
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
from engine.pipeline.context import Context

ACTIVE = ("starting", "running")
ENGINE_ROOT = Path(__file__).resolve().parents[2]


def max_jobs() -> int:
    return max(int(os.environ.get("STUDIO_MAX_JOBS", "1")), 1)


def job_log(ctx: Context, job_id: int) -> Path:
    return ctx.ws.root / "jobs" / f"{job_id}.log"


def submit(ctx: Context, verb: str, kwargs: dict, title: str) -> dict:
    """Queue ``engine.<verb>(**kwargs)`` as a background job (the facade checks the verb); start it now if a
    slot is free."""
    job_id = ctx.db.add_job(verb=verb, kwargs=kwargs, title=title)
    tick(ctx)
    return ctx.db.get_job(job_id)


def tick(ctx: Context) -> None:
    """Reap jobs whose process died, then start queued jobs into free slots."""
    for job in ctx.db.list_jobs(ACTIVE):
        if job["pid"] and not _alive(job["pid"], job["id"]):
            fresh = ctx.db.get_job(job["id"])  # it may have finished between the two reads
            if fresh["status"] in ACTIVE:
                ctx.db.update_job(job["id"], status="failed", finished=time.time(),
                                  error="the job's process ended without reporting (killed or crashed)")  # fmt: skip
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
    if job["status"] == "queued":
        ctx.db.update_job(job["id"], status="cancelled", finished=time.time())
    elif job["status"] in ACTIVE and job["pid"]:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job["pid"], signal.SIGTERM)
    else:
        msg = f"job {job['id']} is {job['status']}; only queued or running jobs can be cancelled"
        raise StudioError(msg)
    return ctx.db.get_job(job["id"])


def list_jobs(ctx: Context, active_only: bool = False) -> list[dict]:
    return ctx.db.list_jobs((*ACTIVE, "queued") if active_only else ())


def _alive(pid: int, job_id: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and "jobs" in proc.cmdline() and str(job_id) in proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
