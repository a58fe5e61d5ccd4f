"""The Ray backend: jobs go to a Ray cluster through Ray's job submission API (``STUDIO_JOB_BACKEND=ray``).

Each studio job becomes one Ray job whose entrypoint is the same runner the local queue starts
(``python -m engine jobs run ID --workspace WS``), so the verb, its events and its results are identical;
Ray decides where and when it runs (``entrypoint_num_cpus`` queues jobs the cluster has no room for).
The job's row in the workspace database keeps the Ray submission id; the state the pages show is
reconciled from Ray on every poll, and cancel is Ray's ``stop_job`` (SIGTERM: training saves ``last.pt``).
The workspace must be on storage every Ray node mounts at the same path.
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
import time
import uuid
from pathlib import Path

from engine.errors import StudioError
from engine.pipeline.context import Context
from engine.status import JOB_UNFINISHED, JobStatus

ENGINE_ROOT = Path(__file__).resolve().parents[2]
# passed on to the job on the worker (the cluster's own environment knows nothing of the studio)
FORWARDED = ("MLFLOW_TRACKING_URI", "STUDIO_THREADS", "TORCH_HOME", "STUDIO_MAX_JOBS")
STOP_WAIT_S = 60  # SIGTERM first, SIGKILL only after this: time for training to write its checkpoint


def address() -> str:
    value = os.environ.get("RAY_ADDRESS", "").strip()
    if not value:
        msg = (
            "STUDIO_JOB_BACKEND=ray needs RAY_ADDRESS, the URL of the Ray dashboard"
            " (e.g. RAY_ADDRESS=http://ray-head:8265); set it, or unset STUDIO_JOB_BACKEND for local jobs"
        )
        raise StudioError(msg)
    return value


@functools.cache
def _client(url: str):
    """One client per cluster and process (creating one asks the cluster for its version)."""
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(url)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        msg = (
            f"cannot reach the Ray cluster at {url} ({_first_line(exc)}); start it (`ray start --head"
            " --dashboard-host 0.0.0.0`) or fix RAY_ADDRESS"
        )
        raise StudioError(msg) from None


def client():
    return _client(address())


def _first_line(what: BaseException | str) -> str:
    """The first line of an error or of a Ray job's message, at most 200 characters."""
    fallback = type(what).__name__ if isinstance(what, BaseException) else "no message"
    return (str(what).strip().splitlines() or [fallback])[0][:200]


def _why_it_ended(message: str) -> str:
    """Ray's message for a failed entrypoint is one line and then the end of the log ("... exit code 2, last
    available logs (truncated to 20,000 chars):" and the log): keep the first line and the log's last line,
    which is where the runner prints its one-line error."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return _first_line(message)
    return f"{lines[0][:200]} {lines[-1][:300]}"


def cpus(job: dict) -> float:
    """CPUs Ray reserves for the job: ``$STUDIO_RAY_JOB_CPUS`` (default 1), at least one per training process."""
    try:
        base = float(os.environ.get("STUDIO_RAY_JOB_CPUS", "1"))
    except ValueError:
        msg = f"STUDIO_RAY_JOB_CPUS={os.environ['STUDIO_RAY_JOB_CPUS']!r} is not a number of CPUs (e.g. 1 or 0.5)"
        raise StudioError(msg) from None
    return max(base, float(job["kwargs"].get("nproc") or 1))


def submit(ctx: Context, job_id: int) -> None:
    """Hand a queued job to Ray; on failure the job is marked failed and the reason raised in one line."""
    submission = f"studio-{job_id}-{uuid.uuid4().hex[:8]}"
    python = os.environ.get("STUDIO_RAY_PYTHON", sys.executable)
    entrypoint = shlex.join([python, "-m", "engine", "jobs", "run", str(job_id), "--workspace", str(ctx.ws.root)])
    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    env |= {
        "STUDIO_JOB_BACKEND": "ray",  # the same database journal mode on every machine
        "PYTHONPATH": os.pathsep.join(p for p in (str(ENGINE_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "RAY_JOB_STOP_WAIT_TIME_S": str(STOP_WAIT_S),
    }
    job = ctx.db.get_job(job_id)
    try:
        client().submit_job(
            entrypoint=entrypoint,
            submission_id=submission,
            runtime_env={"env_vars": env},
            entrypoint_num_cpus=cpus(job),
            metadata={"studio_job": str(job_id), "verb": job["verb"], "workspace": str(ctx.ws.root)},
        )
    except StudioError as exc:
        ctx.db.update_job(job_id, status=JobStatus.FAILED, finished=time.time(), error=str(exc))
        raise
    except Exception as exc:  # the SDK raises RuntimeError for HTTP errors, requests' errors when unreachable
        error = f"the Ray cluster at {address()} refused the job: {_first_line(exc)}"
        ctx.db.update_job(job_id, status=JobStatus.FAILED, finished=time.time(), error=error)
        raise StudioError(error) from None
    ctx.db.update_job(job_id, backend_id=submission)


def sync(ctx: Context, rows: list[dict]) -> None:
    """Bring unfinished Ray jobs' ``rows`` up to date with what the cluster says about them.

    The runner on the worker writes running/completed/failed/cancelled itself; this covers what it cannot:
    waiting in Ray's queue, a job stopped before it started, a process killed or a runtime environment that
    failed to set up, and a cluster that forgot the job.
    """
    rows = [j for j in rows if j["backend_id"]]
    if not rows or not os.environ.get("RAY_ADDRESS"):
        return
    from ray.job_submission import JobStatus as RayStatus

    try:
        known = {d.submission_id: d for d in client().list_jobs()}
    except Exception:  # unreachable now (StudioError) or refusing: keep the last known state
        return
    for row in rows:
        detail = known.get(row["backend_id"])
        fresh = ctx.db.get_job(row["id"])  # the runner may have finished it since the first read
        if fresh["status"] not in JOB_UNFINISHED:
            continue
        if detail is None:
            ctx.db.update_job(row["id"], status=JobStatus.FAILED, finished=time.time(),
                              error=f"the Ray cluster at {address()} no longer knows job {row['backend_id']}"
                                    " (was it restarted?)")  # fmt: skip
        elif detail.status == RayStatus.RUNNING and fresh["status"] == JobStatus.QUEUED:
            ctx.db.update_job(row["id"], status=JobStatus.STARTING, started=time.time())
        elif detail.status == RayStatus.STOPPED:
            ctx.db.update_job(row["id"], status=JobStatus.CANCELLED, finished=time.time())
        elif detail.status in (RayStatus.FAILED, RayStatus.SUCCEEDED):
            why = _why_it_ended(detail.message or "")
            error = f"the Ray job {row['backend_id']} ended without reporting a result: {why}"
            ctx.db.update_job(row["id"], status=JobStatus.FAILED, finished=time.time(), error=error)


def cancel(ctx: Context, job: dict) -> None:
    """Ray's stop_job: a job waiting in Ray's queue never starts; a running one gets SIGTERM."""
    try:
        client().stop_job(job["backend_id"])
    except StudioError:
        raise
    except Exception as exc:
        msg = f"could not stop Ray job {job['backend_id']} at {address()}: {_first_line(exc)}"
        raise StudioError(msg) from None
    if job["status"] == JobStatus.QUEUED:  # its runner never ran, so nothing else will record it
        ctx.db.update_job(job["id"], status=JobStatus.CANCELLED, finished=time.time())


def logs(job: dict) -> str:
    """What the job printed, as the cluster stored it."""
    if not job["backend_id"]:
        return ""
    try:
        return client().get_job_logs(job["backend_id"])
    except StudioError:
        return ""
    except Exception as exc:
        return f"(the Ray cluster has no logs for {job['backend_id']}: {_first_line(exc)})"
