"""Runs one job inside its own process: ``python -m engine jobs run ID``."""

from __future__ import annotations

import inspect
import logging
import signal
import time
import traceback

from engine.errors import Cancelled, StudioError
from engine.jobs.queue import tick
from engine.pipeline.context import Context
from engine.status import JobStatus, RunStatus

log = logging.getLogger(__name__)


def _raise_cancelled(signum: int, frame: object) -> None:
    raise Cancelled


def run_job(ctx: Context, job_id: int) -> dict:
    import engine

    job = ctx.db.get_job(job_id)
    if job["status"] == JobStatus.CANCELLED:  # cancelled while it waited in the Ray cluster's queue: never run it
        log.info("job %s was cancelled before it started", job_id)
        return job
    ctx.db.update_job(job_id, status=JobStatus.RUNNING, started=time.time())
    signal.signal(signal.SIGTERM, _raise_cancelled)  # training installs its own handler while it fits
    verb = engine.VERBS[job["verb"]]
    accepted = inspect.signature(verb).parameters
    kwargs = dict(job["kwargs"])
    if "workspace" in accepted:
        kwargs["workspace"] = str(ctx.ws.root)
    if "on_run" in accepted:  # the run is known as soon as it exists, so the pages can follow it
        kwargs["on_run"] = lambda run_id: ctx.db.update_job(job_id, run_id=run_id)
    log.info("job %s: %s %s", job_id, job["verb"], job["kwargs"])
    status, result, error = JobStatus.COMPLETED, {}, ""
    try:
        result = verb(**kwargs)
        if isinstance(result, dict) and result.get("status") == RunStatus.CANCELLED:
            status = JobStatus.CANCELLED
    except Cancelled:
        status = JobStatus.CANCELLED
    except StudioError as exc:
        status, error = JobStatus.FAILED, str(exc)
    except Exception as exc:
        status, error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"
        log.error("%s", traceback.format_exc())
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    run_id = result.get("run") if isinstance(result, dict) else None
    fields = {"status": status, "finished": time.time(), "result": result, "error": error}
    if run_id is not None:
        fields["run_id"] = run_id
    ctx.db.update_job(job_id, **fields)
    log.info("job %s %s%s", job_id, status, f": {error}" if error else "")
    if job["backend"] == "local":
        tick(ctx)  # hand the slot to the next queued job (Ray starts its own)
    return ctx.db.get_job(job_id)
